"""The buddy heap of one NUMA node: free lists by zone and order, scrub state, offlining.

It follows the free-list handling of ``xen/common/page_alloc.c`` ([UP]):

* zones: a buddy's zone is ``page_to_zone()``, the bit length of its first MFN
  (``flsl``; MFN 0 counts as zone 1); ``get_free_buddy()`` searches a node's zones from
  the highest down and, inside a zone, the orders from the request up, looking only at
  the head of each list;
* scrub state: a buddy that needs scrubbing records the index of its first dirty page
  (``first_dirty``) and goes to the **tail** of its list, a clean one to the **head**
  (``page_list_add_scrub``); so clean buddies come first and are taken LIFO, dirty ones
  after them in the order they arrived;
* a search that does not take dirty buddies (a request above order 0 without
  ``MEMF_no_scrub``) moves a dirty head to the tail of its list and tries the next order;
* allocation halves the buddy it takes, putting the **lower** half back and keeping the
  **upper** half, with ``first_dirty`` carried into the halves (``alloc_heap_pages``);
* freeing merges with the buddy of equal order for as long as it is free and on the same
  node, and the merged buddy is dirty from the first dirty page of either part
  (``free_heap_pages``);
* boot-time memory is freed in ascending, aligned chunks (``init_heap_pages``);
* offlining puts the rest of a buddy back with the loop of ``reserve_offlined_page()``,
  as it was before upstream's fixes (``fixed=False``) or after them (``fixed=True``).

Where the model is simpler than Xen is listed on the site's "Open questions" page (M1 to
M4): the idle scrubber does not run, boot memory is clean, and MFN 0 can be free.

Free memory costs one dictionary entry per free buddy, never one object per page.
"""

from __future__ import annotations

from collections.abc import Iterator

HeapState = tuple[object, ...]
"""What :meth:`NodeHeap.encode` gives and :meth:`NodeHeap.decode` takes."""


def page_to_zone(mfn: int) -> int:
    """The zone of a buddy whose first frame is *mfn*: ``flsl(mfn) ?: 1`` ([UP])."""
    return mfn.bit_length() or 1


class NodeHeap:
    """Free buddies of one node, whose frames are ``start .. start + size - 1``.

    :param node: the node id.
    :param start: the first MFN of the node.
    :param size: the number of pages of the node.
    :param max_order: the largest buddy order (``MAX_ORDER``).
    :param populate: free every frame at boot; False leaves the heap empty.

    ``free_pages`` counts the frames on the free lists; it is the heap's own count
    (``avail[node][zone]`` summed over the zones, kept per zone in ``avail``), kept by
    the list operations, which the invariant ``inv-avail`` compares with the allocator's
    ``node_avail_pages``. ``clean[z][o]`` and ``dirty[z][o]`` are the list of zone
    ``zone_lo + z`` and order *o*: the clean part has its head last, the dirty part its
    tail last. ``first_dirty`` holds the first dirty page of each dirty buddy.
    """

    __slots__ = (
        "_encoded",
        "avail",
        "clean",
        "dirty",
        "end",
        "first_dirty",
        "free_pages",
        "max_order",
        "node",
        "order_of",
        "start",
        "zone_lo",
    )

    def __init__(
        self, node: int, start: int, size: int, max_order: int, populate: bool = True
    ) -> None:
        self.node = node
        self.start = start
        self.end = start + size
        self.max_order = max_order
        self.zone_lo = page_to_zone(start)
        zones = page_to_zone(max(start, self.end - 1)) - self.zone_lo + 1
        self.clean: list[list[dict[int, None]]] = [
            [{} for _ in range(max_order + 1)] for _ in range(zones)
        ]
        self.dirty: list[list[dict[int, None]]] = [
            [{} for _ in range(max_order + 1)] for _ in range(zones)
        ]
        self.avail = [0] * zones
        self.order_of: dict[int, int] = {}
        self.first_dirty: dict[int, int] = {}
        self.free_pages = 0
        self._encoded: HeapState | None = None  # encode()'s value until the lists change
        s, e = start, start + size if populate else start
        while s < e:  # init_heap_pages: ascending chunks aligned to their size
            order = min(max_order, (e - s).bit_length() - 1)
            if s:
                order = min(order, (s & -s).bit_length() - 1)
            self.free(s, order, False)
            s += 1 << order

    def _add(self, mfn: int, order: int, first_dirty: int | None) -> None:
        """``page_list_add_scrub``: a dirty buddy at the tail, a clean one at the head."""
        z = (mfn.bit_length() or 1) - self.zone_lo  # page_to_zone, inline: a hot path
        if first_dirty is None:
            self.clean[z][order][mfn] = None
        else:
            self.dirty[z][order][mfn] = None
            self.first_dirty[mfn] = first_dirty
        self.order_of[mfn] = order
        self.avail[z] += 1 << order
        self.free_pages += 1 << order
        self._encoded = None

    def _remove(self, mfn: int) -> tuple[int, int | None]:
        """Take the buddy at *mfn* off its list; return its order and ``first_dirty``."""
        order = self.order_of.pop(mfn)
        z = (mfn.bit_length() or 1) - self.zone_lo
        first_dirty = self.first_dirty.pop(mfn, None)
        del (self.clean if first_dirty is None else self.dirty)[z][order][mfn]
        self.avail[z] -= 1 << order
        self.free_pages -= 1 << order
        self._encoded = None
        return order, first_dirty

    def alloc(self, order: int, no_scrub: bool) -> int | None:
        """Take a buddy of *order* and return its MFN (one node of ``get_free_buddy``).

        Zones from the highest down, orders from *order* up, the head of each list: a
        clean head is taken; a dirty one too for an order-0 request or with *no_scrub*
        (``MEMF_no_scrub``), otherwise it moves to the tail of its list.
        """
        request = 1 << order
        take_dirty = no_scrub or not order
        for z in range(len(self.avail) - 1, -1, -1):
            if self.avail[z] < request:
                continue
            clean, dirty = self.clean[z], self.dirty[z]
            for buddy_order in range(order, self.max_order + 1):
                free = clean[buddy_order]
                if free:
                    return self._split(next(reversed(free)), order)
                free = dirty[buddy_order]
                if free:
                    mfn = next(iter(free))
                    if take_dirty:
                        return self._split(mfn, order)
                    del free[mfn]  # page_list_add_tail: the next search sees another
                    free[mfn] = None
                    self._encoded = None
        return None

    def _split(self, mfn: int, order: int) -> int:
        """Take the buddy at *mfn* and halve it down to *order*; return the MFN kept."""
        buddy_order, first_dirty = self._remove(mfn)
        while buddy_order != order:
            buddy_order -= 1
            half = 1 << buddy_order
            lower_dirty = first_dirty if first_dirty is not None and first_dirty < half else None
            self._add(mfn, buddy_order, lower_dirty)  # the lower half goes back
            mfn += half  # the upper half is kept
            if first_dirty is not None:
                first_dirty = first_dirty - half if first_dirty >= half else 0
        return mfn

    def free(self, mfn: int, order: int, need_scrub: bool) -> int:
        """Put a buddy back, merging it with free buddies; return the merged head."""
        first_dirty = 0 if need_scrub else None
        while order < self.max_order:
            mask = 1 << order
            buddy = mfn ^ mask
            if not self.start <= buddy < self.end or self.order_of.get(buddy) != order:
                break
            _, buddy_dirty = self._remove(buddy)
            if mfn & mask:  # the buddy is the predecessor and becomes the head
                if buddy_dirty is None and first_dirty is not None:
                    buddy_dirty = mask + first_dirty
                first_dirty = buddy_dirty
                mfn = buddy
            elif first_dirty is None and buddy_dirty is not None:
                first_dirty = mask + buddy_dirty
            order += 1
        self._add(mfn, order, first_dirty)
        return mfn

    def containing(self, mfn: int) -> int | None:
        """Return the head of the free buddy that holds *mfn*, if there is one.

        ``reserve_heap_page`` looks through the free lists; the aligned heads are tried
        first, then any buddy (the loop before upstream's fixes can put back misaligned
        ones).
        """
        for order in range(self.max_order + 1):
            head = mfn & ~((1 << order) - 1)
            if self.order_of.get(head) == order:
                return head
        return next((h for h, o in self.order_of.items() if h <= mfn < h + (1 << o)), None)

    def reserve(self, head: int, offlined: set[int], fixed: bool) -> int:
        """Take the *offlined* frames out of the free buddy at *head*; return how many.

        The rest goes back in pieces, lowest first, each grown from its first frame
        while the next larger piece holds no offlined frame (``reserve_offlined_page``).
        *fixed* is the loop of upstream since 71c6a62317 and 5cb7ff13ee: a piece grows
        only while it stays aligned and within the buddy. Before them a piece grows
        without the alignment check and stops one step before it would reach the end of
        the buddy.
        """
        order, first_dirty = self._remove(head)
        end = head + (1 << order)
        inside = sorted(p for p in offlined if head <= p < end)
        cur = head
        while cur < end:
            if cur in offlined:
                cur += 1
                if first_dirty:
                    first_dirty -= 1
                continue
            piece = 0
            while piece < order:
                grown = cur + (2 << piece)
                if grown > end if fixed else grown >= end:
                    break
                if fixed and cur & (1 << piece):
                    break
                if any(cur + (1 << piece) <= p < grown for p in inside):
                    break
                piece += 1
            size = 1 << piece
            dirty = first_dirty if first_dirty is not None and first_dirty < size else None
            self._add(cur, piece, dirty)
            cur += size
            if first_dirty is not None:
                first_dirty = first_dirty - size if first_dirty >= size else 0
        return len(inside)

    def has_buddy(self, order: int) -> bool:
        """Whether a free buddy of *order* or larger is on any list."""
        return any(o >= order for o in self.order_of.values())

    def _lists(self) -> Iterator[tuple[int, int, dict[int, None], dict[int, None]]]:
        for z, (clean, dirty) in enumerate(zip(self.clean, self.dirty, strict=True)):
            for order in range(self.max_order + 1):
                yield z, order, clean[order], dirty[order]

    def snapshot(self) -> tuple[tuple[int, int, tuple[int, ...], tuple[int, ...]], ...]:
        """The non-empty free lists as ``(zone, order, heads, first_dirty)``, each list
        head first, with the ``first_dirty`` of its dirty buddies; a hashable value."""
        return tuple(
            (
                self.zone_lo + z,
                order,
                (*reversed(clean), *dirty),
                tuple(self.first_dirty[m] for m in dirty),
            )
            for z, order, clean, dirty in self._lists()
            if clean or dirty
        )

    def encode(self) -> HeapState:
        """The lists as nested tuples, for the model checker (:meth:`decode` reverses).

        Kept until a list changes (every change goes through ``_add``, ``_remove`` or the
        dirty-head rotation of :meth:`alloc`): most calls the checker tries leave the
        heap alone, and it encodes the host after each."""
        if self._encoded is not None:
            return self._encoded
        first_dirty = self.first_dirty
        dirty: tuple[tuple[int, int, int], ...] = ()
        if first_dirty:  # (mfn, order, first_dirty) of each dirty buddy, in list order
            dirty = tuple(
                (mfn, order, first_dirty[mfn])
                for zone in self.dirty
                for order, free in enumerate(zone)
                for mfn in free
            )
        self._encoded = (
            self.free_pages,
            tuple(self.avail),
            tuple(tuple(free) for zone in self.clean for free in zone),
            dirty,
        )
        return self._encoded

    @staticmethod
    def free_frames(state: HeapState) -> set[int]:
        """The free frames of *state* (of :meth:`encode`), whatever the order of the
        lists, the pieces they are split into and their scrub state."""
        _, avail, clean, dirty = state
        assert isinstance(avail, tuple) and isinstance(clean, tuple)
        assert isinstance(dirty, tuple)
        width = len(clean) // len(avail)
        buddies = [(mfn, i % width) for i, free in enumerate(clean) for mfn in free]
        buddies += [(mfn, order) for mfn, order, _ in dirty]
        return {p for mfn, order in buddies for p in range(mfn, mfn + (1 << order))}

    def decode(self, state: HeapState) -> None:
        """Put the heap into *state*, a value of :meth:`encode`."""
        free_pages, avail, clean, dirty = state
        assert isinstance(free_pages, int) and isinstance(avail, tuple)
        assert isinstance(clean, tuple) and isinstance(dirty, tuple)
        width = self.max_order + 1
        self.free_pages, self.avail = free_pages, list(avail)
        self.clean = [
            [dict.fromkeys(free) for free in clean[z : z + width]]
            for z in range(0, len(clean), width)
        ]
        self.dirty = [[{} for _ in range(width)] for _ in avail]
        self.order_of = order_of = {}
        for zone in self.clean:
            for order, free in enumerate(zone):
                for mfn in free:
                    order_of[mfn] = order
        self.first_dirty = {}
        for mfn, order, first in dirty:
            order_of[mfn] = order
            self.dirty[page_to_zone(mfn) - self.zone_lo][order][mfn] = None
            self.first_dirty[mfn] = first
        self._encoded = state
