"""lora-lint: static and runtime checks for return-shape and unbound-name bugs in LoRA code."""

__version__ = "0.1.0"
