"""The EQ engine: RBJ design, magnitude responses and the numba biquad kernel.

``EQProcessor`` is imported lazily so that ``response_db`` (pure numpy) does not compile numba code.
"""

from .design import design_sos, log_frequency_grid, response_db, sos_response_db

__all__ = ["EQProcessor", "design_sos", "log_frequency_grid", "response_db", "sos_response_db"]


def __getattr__(name):
    if name == "EQProcessor":
        from .processor import EQProcessor

        return EQProcessor
    raise AttributeError(name)
