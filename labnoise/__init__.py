"""labnoise: learning with noisy labels, reproduced as an executed book backed by a small library."""
__version__ = "0.1.0"
