"""WorldModel: language models that answer with verified, executable reasoning.

The core library. It covers the response format, training data, training, generation,
verification, evaluation and configuration. It deliberately imports no Celery, Redis or
paramiko, and imports torch/transformers only inside the functions that need them.
"""

__version__ = "0.1.0"
