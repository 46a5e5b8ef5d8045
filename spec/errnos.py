"""Xen's errno values and :class:`Rc`, the return code of a hypercall model."""

from __future__ import annotations

from typing import Final

# --- errno: Xen's values (xen/include/public/errno.h, the same as Linux x86) --------

ERRNO_NAMES: Final[dict[int, str]] = {
    1: "EPERM",
    2: "ENOENT",
    3: "ESRCH",
    7: "E2BIG",
    12: "ENOMEM",
    14: "EFAULT",
    16: "EBUSY",
    22: "EINVAL",
    34: "ERANGE",
    38: "ENOSYS",
    75: "EOVERFLOW",
    95: "EOPNOTSUPP",
    105: "ENOBUFS",
}
EPERM: Final = 1
ENOENT: Final = 2
ESRCH: Final = 3
E2BIG: Final = 7
ENOMEM: Final = 12
EFAULT: Final = 14
EBUSY: Final = 16
EINVAL: Final = 22
ERANGE: Final = 34
ENOSYS: Final = 38
EOVERFLOW: Final = 75
EOPNOTSUPP: Final = 95
ENOBUFS: Final = 105


class Rc(int):
    """A hypercall's return code: 0 or Xen's negative errno.

    It is an ``int`` (``Rc(-12) == -errno.ENOMEM``) that reads like the C source in a
    doctest:

    >>> Rc(-ENOMEM), Rc(0)
    (-ENOMEM, 0)
    """

    __slots__ = ()

    def __repr__(self) -> str:
        if self == 0:
            return "0"
        return "-" + ERRNO_NAMES.get(-self, str(-int(self)))

    __str__ = __repr__

    @property
    def name(self) -> str:
        """The errno name without sign (``"ENOMEM"``), or ``"0"``."""
        return repr(self).lstrip("-")


OK: Final = Rc(0)


def err(errno: int) -> Rc:
    """Return the negative return code for a positive *errno*."""
    return Rc(-errno)
