"""The model tests load weights and tokenizers: skipped without torch and transformers.

Both come with the `model` extra. The tiny model and the tokenizer these tests use are shared
with other folders and live in tests/conftest.py.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
