"""The buddy heap of one NUMA node: free lists by order, split, merge and offlining.

It mirrors the free-list handling of ``xen/common/page_alloc.c`` with one zone per node
(the claims design counts free memory per node; zones only matter for DMA limits):

* a free list per order; a buddy is added at the head (``page_list_add``) and taken
  from the head (``page_list_remove_head``), so the lists are LIFO;
* allocation takes the smallest order that fits and halves it, putting the **lower**
  half back on the free list and keeping the **upper** half (``alloc_heap_pages``);
* freeing merges with the buddy of equal order for as long as it is free and on the
  same node (``free_heap_pages``);
* boot-time memory is freed in ascending, aligned chunks (``init_heap_pages``).

Where the model is simpler than Xen (the site's "Open questions" page, M1 to M3):

* one zone per node, so "smallest order first" holds per node, not per zone;
* offlining puts the rest of a buddy back as the largest *aligned* buddies; Xen's
  ``reserve_offlined_page()`` can put back misaligned or needlessly split pieces;
* scrubbing is instantaneous (Xen's idle scrubber eventually moves scrubbed buddies to
  the head of their list), so every free buddy is clean;
* every frame from MFN 0 is free at boot unless a harness layout is given.

Free memory costs one dictionary entry per free buddy, never one object per page.
"""

from __future__ import annotations


class NodeHeap:
    """Free buddies of one node, whose frames are ``start .. start + size - 1``.

    :param node: the node id.
    :param start: the first MFN of the node.
    :param size: the number of pages of the node.
    :param max_order: the largest buddy order (``MAX_ORDER``).
    :param populate: free every frame at boot; False leaves the heap empty.

    ``free_pages`` counts the frames on the free lists; it is the heap's own count
    (``avail[node][zone]``), kept by the list operations, which the invariant
    ``inv-avail`` compares with the allocator's ``node_avail_pages``.
    """

    __slots__ = ("end", "free_pages", "lists", "max_order", "node", "order_of", "start")

    def __init__(
        self, node: int, start: int, size: int, max_order: int, populate: bool = True
    ) -> None:
        self.node = node
        self.start = start
        self.end = start + size
        self.max_order = max_order
        # One insertion-ordered dict per order: the last key is the list head.
        self.lists: list[dict[int, None]] = [{} for _ in range(max_order + 1)]
        self.order_of: dict[int, int] = {}
        self.free_pages = 0
        s, e = start, start + size if populate else start
        while s < e:  # init_heap_pages: ascending chunks aligned to their size
            order = min(max_order, (e - s).bit_length() - 1)
            if s:
                order = min(order, (s & -s).bit_length() - 1)
            self.free(s, order)
            s += 1 << order

    def _add(self, mfn: int, order: int) -> None:
        self.lists[order][mfn] = None
        self.order_of[mfn] = order
        self.free_pages += 1 << order

    def _remove(self, mfn: int) -> int:
        order = self.order_of.pop(mfn)
        del self.lists[order][mfn]
        self.free_pages -= 1 << order
        return order

    def alloc(self, order: int) -> int | None:
        """Take a buddy of *order* (smallest fitting order first); return its MFN."""
        for buddy_order in range(order, self.max_order + 1):
            free = self.lists[buddy_order]
            if free:
                mfn = next(reversed(free))
                self._remove(mfn)
                while buddy_order != order:
                    buddy_order -= 1
                    self._add(mfn, buddy_order)  # the lower half goes back
                    mfn += 1 << buddy_order  # the upper half is kept
                return mfn
        return None

    def free(self, mfn: int, order: int) -> int:
        """Put a buddy back, merging it with free buddies; return the merged head."""
        while order < self.max_order:
            mask = 1 << order
            buddy = mfn ^ mask
            if not self.start <= buddy < self.end or self.order_of.get(buddy) != order:
                break
            self._remove(buddy)
            mfn &= ~mask
            order += 1
        self._add(mfn, order)
        return mfn

    def containing(self, mfn: int) -> int | None:
        """Return the head of the free buddy that holds *mfn*, if there is one."""
        for order in range(self.max_order + 1):
            head = mfn & ~((1 << order) - 1)
            if self.order_of.get(head) == order:
                return head
        return None

    def reserve(self, head: int, offlined: set[int]) -> int:
        """Take the *offlined* frames out of the free buddy at *head*.

        The rest of the buddy goes back as the largest aligned buddies that hold no
        offlined frame, lowest first (``reserve_offlined_page``). Returns how many frames
        were taken out.
        """
        order = self._remove(head)
        inside = {p for p in offlined if head <= p < head + (1 << order)}
        return (1 << order) - self._readd(head, order, inside)

    def _readd(self, mfn: int, order: int, offlined: set[int]) -> int:
        """Add the frames of ``mfn .. mfn + 2**order - 1`` not in *offlined*."""
        if not any(mfn <= p < mfn + (1 << order) for p in offlined):
            self._add(mfn, order)
            return 1 << order
        if order == 0:
            return 0
        half = order - 1
        return self._readd(mfn, half, offlined) + self._readd(mfn + (1 << half), half, offlined)

    def snapshot(self) -> tuple[tuple[int, ...], ...]:
        """The free lists, head first, as a hashable value."""
        return tuple(tuple(reversed(free)) for free in self.lists)
