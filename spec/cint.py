"""C integer widths of the claims ABI (x86_64) and the check that a value fits one.

A Python caller passing a value the C type cannot carry gets ``TypeError`` or
``ValueError`` naming the argument; every structure and hypercall model checks its
arguments with :func:`c_uint`.
"""

from __future__ import annotations

from typing import Final

# --- C integer widths (x86_64: unsigned int 32 bits, unsigned long 64 bits) ----------

UINT_MAX: Final = 0xFFFF_FFFF
"""``unsigned int`` and ``uint32_t``: per-domain page counts, entry targets, ``cmd``."""
UINT64_MAX: Final = 0xFFFF_FFFF_FFFF_FFFF
"""``uint64_t`` / ``unsigned long``: claim-entry pages, host counters ([UP] 48054287a8)."""
ULONG_MAX: Final = UINT64_MAX


def c_uint(value: object, name: str, limit: int = UINT_MAX) -> int:
    """Return *value* if a C unsigned integer of maximum *limit* can carry it.

    :param value: the Python value a caller passed.
    :param name: the argument's name, used in the error message.
    :param limit: the largest value of the C type.
    :raises TypeError: *value* is not an ``int`` (``bool`` is refused too).
    :raises ValueError: *value* is negative or larger than *limit*.
    """
    if type(value) is int and 0 <= value <= limit:  # the common case, checked first
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 0 <= value <= limit:
        raise ValueError(f"{name}={value} does not fit the C type (0..{limit:#x})")
    return value
