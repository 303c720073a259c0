"""Output formats: one module per format behind one small interface (see base.py)."""

from pdguard.output.base import FORMATS, Output, get_output

__all__ = ["FORMATS", "Output", "get_output"]
