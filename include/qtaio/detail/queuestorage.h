// SPDX-License-Identifier: MIT
#pragma once

// Storage policies of the QtAio queues. Accessed only under the queue's lock.

#include <qtaio/detail/basicqueue.h>

#include <algorithm>
#include <concepts>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <limits>
#include <map>
#include <type_traits>
#include <utility>
#include <vector>

namespace QtAio {

template<typename T, typename P>
struct PriorityItem; // defined in priorityqueue.h

namespace detail {

//! First in, first out (\a Lifo false) or last in, first out (\a Lifo true).
template<typename T, bool Lifo>
class SequenceStorage {
public:
    using value_type = T;
    using Key = NoKey;
    using Item = T;
    static constexpr const char *typeName = Lifo ? "LifoQueue" : "AsyncQueue";

    static Item makeItem(T &&value, const Key &) { return std::move(value); }
    static T value(Item &&item) { return std::move(item); }

    void push(T &&value, const Key &) { m_items.push_back(std::move(value)); }
    Item pop()
    {
        if constexpr (Lifo) {
            Item item = std::move(m_items.back());
            m_items.pop_back();
            return item;
        } else {
            Item item = std::move(m_items.front());
            m_items.pop_front();
            return item;
        }
    }
    void clear() { m_items.clear(); }
    [[nodiscard]] std::size_t size() const { return m_items.size(); }

private:
    std::deque<T> m_items;
};

template<typename T>
using FifoStorage = SequenceStorage<T, false>;
template<typename T>
using LifoStorage = SequenceStorage<T, true>;

//! Integral priorities (but bool) sort by radix: their order maps onto an unsigned key.
//! Enumerations do not: their operator< may be the user's own.
template<typename P>
concept RadixSortable = std::is_integral_v<P> && !std::is_same_v<std::remove_cv_t<P>, bool> &&
                        sizeof(P) <= sizeof(std::uint64_t);

//! The unsigned key of a RadixSortable priority: same order as P's own.
template<RadixSortable P>
auto radixKey(P priority)
{
    using Key = std::conditional_t<(sizeof(P) <= 4), std::uint32_t, std::uint64_t>;
    auto key = Key(std::make_unsigned_t<P>(priority));
    if constexpr (std::is_signed_v<P>)
        key ^= Key(1) << (sizeof(P) * 8 - 1); // negative values first
    return key;
}

//! Sorts \a entries stably by key(entry) (an unsigned integer): LSD radix sort by byte,
//! skipping bytes that all keys share, then one pass that moves the entries into place.
template<typename Entry, typename KeyOf>
void radixSortStable(std::vector<Entry> &entries, KeyOf keyOf)
{
    using Key = decltype(keyOf(entries.front()));
    struct Slot {
        Key key;
        std::uint32_t index;
    };
    const std::size_t n = entries.size();
    std::vector<Slot> ranked(n);
    std::vector<Slot> scratch(n);
    std::array<std::array<std::uint32_t, 256>, sizeof(Key)> counts{};
    for (std::size_t i = 0; i < n; ++i) {
        const Key key = keyOf(entries[i]);
        ranked[i] = Slot{key, std::uint32_t(i)};
        for (std::size_t byte = 0; byte < sizeof(Key); ++byte)
            ++counts[byte][(key >> (8 * byte)) & 0xff];
    }
    for (std::size_t byte = 0; byte < sizeof(Key); ++byte) {
        auto &count = counts[byte];
        if (std::find(count.begin(), count.end(), std::uint32_t(n)) != count.end())
            continue; // every key has the same value in this byte
        std::uint32_t offset = 0;
        for (auto &c : count)
            offset += std::exchange(c, offset);
        for (const Slot &slot : ranked)
            scratch[count[(slot.key >> (8 * byte)) & 0xff]++] = slot;
        ranked.swap(scratch);
    }
    std::vector<Entry> sorted;
    sorted.reserve(n);
    for (const Slot &slot : ranked)
        sorted.push_back(std::move(entries[slot.index]));
    entries.swap(sorted);
}

//! What both priority storages share: their types, and how an item is made and unpacked.
template<typename T, typename P>
struct PriorityItems {
    using value_type = T;
    using Key = P;
    using Item = PriorityItem<T, P>;
    static constexpr const char *typeName = "PriorityQueue";

    static Item makeItem(T &&value, const Key &priority)
    {
        P key = priority; // may throw: before the value is moved
        return Item{std::move(value), std::move(key)};
    }
    static T value(Item &&item) { return std::move(item.value); }
};

//! Lowest priority value first; first in, first out among equal priorities.
/*!
 * Entries are ordered by priority, then by arrival (a sequence number). A put appends to a
 * pending buffer in O(1). A get takes the earlier of two heads: a sorted run, consumed from
 * its front, and the pending buffer, kept as a binary heap. Once the pending buffer outgrows
 * what is left of the run (and a small threshold), a get sorts it and merges it into the run
 * instead: a stable radix sort for integral priorities, std::stable_sort for the others. So a burst
 * of puts followed by gets costs one sort and then O(1) per get, which touches memory in order (a
 * binary heap of the same size pays a cache miss per level of every pop); interleaved puts and gets
 * on a short queue work on the small heap alone. Every entry is sorted O(log n) times at most: a
 * merge at least doubles the run it lands in.
 */
template<typename T, typename P>
class PriorityStorage : public PriorityItems<T, P> {
public:
    using Item = PriorityItem<T, P>;

    void push(T &&value, const P &priority)
    {
        // Whatever can throw (the priority's copy, the allocation) comes before the move.
        P key = priority;
        if (m_pending.size() == m_pending.capacity())
            m_pending.reserve(std::max<std::size_t>(16, 2 * m_pending.capacity()));
        m_pending.push_back(Entry{Item{std::move(value), std::move(key)}, m_nextSequence++});
    }
    Item pop()
    {
        if (m_pending.size() > std::max(mergeThreshold, runLeft()))
            mergePending();
        else
            heapifyPending();
        if (!m_pending.empty() && (runLeft() == 0 || Earlier{}(m_pending.front(), m_run[m_head]))) {
            std::pop_heap(m_pending.begin(), m_pending.end(), Later{});
            Item item = std::move(m_pending.back().item);
            m_pending.pop_back();
            --m_heapSize;
            return item;
        }
        Item item = std::move(m_run[m_head].item);
        if (++m_head == m_run.size()) {
            m_run.clear();
            m_head = 0;
        }
        return item;
    }
    void clear()
    {
        m_run.clear();
        m_head = 0;
        m_pending.clear();
        m_heapSize = 0;
    }
    [[nodiscard]] std::size_t size() const { return runLeft() + m_pending.size(); }
    //! Number of stored items per priority, in priority order. Counted on demand (a scan of
    //! the queue), so that put and get pay nothing for it.
    [[nodiscard]] std::map<P, int> counts() const
    {
        std::map<P, int> counts;
        forEachEntry([&](const Entry &entry) { ++counts[entry.item.priority]; });
        return counts;
    }
    //! Number of stored items with \a priority (a scan of the queue).
    [[nodiscard]] int count(const P &priority) const
    {
        int n = 0;
        forEachEntry([&](const Entry &entry) {
            n += !(entry.item.priority < priority) && !(priority < entry.item.priority);
        });
        return n;
    }
    //! The items of one priority that are stored, by their arrival numbers.
    struct Waiting {
        int count = 0;
        std::uint64_t oldest = 0; //!< the oldest item's arrival number
        std::uint64_t median = 0; //!< the arrival number half of them are older than
        std::uint64_t p95 = 0;    //!< the arrival number 5% of them are older than
    };
    //! Per priority, in priority order: how many items are stored, and the arrival numbers of
    //! the oldest, the median and the 95th percentile of their ages (a scan of the queue and
    //! one selection per priority). Arrival numbers count every item stored since the queue
    //! was made; nextArrival() is the next one.
    [[nodiscard]] std::map<P, Waiting> waitingByPriority() const
    {
        std::map<P, std::vector<std::uint64_t>> arrivals;
        forEachEntry(
            [&](const Entry &entry) { arrivals[entry.item.priority].push_back(entry.sequence); });
        std::map<P, Waiting> levels;
        for (auto &[priority, numbers] : arrivals) {
            // The k-th oldest item has the k-th smallest arrival number.
            const auto kth = [&numbers](std::size_t k) {
                std::nth_element(numbers.begin(), numbers.begin() + std::ptrdiff_t(k),
                                 numbers.end());
                return numbers[k];
            };
            Waiting level;
            level.count = int(numbers.size());
            level.oldest = *std::min_element(numbers.begin(), numbers.end());
            level.p95 = kth(numbers.size() / 20);
            level.median = kth(numbers.size() / 2);
            levels.emplace(priority, level);
        }
        return levels;
    }
    //! The arrival number the next stored item gets.
    [[nodiscard]] std::uint64_t nextArrival() const { return m_nextSequence; }

private:
    struct Entry {
        Item item;
        std::uint64_t sequence;
    };
    //! Whether \a a comes out before \b b.
    struct Earlier {
        bool operator()(const Entry &a, const Entry &b) const
        {
            if (a.item.priority < b.item.priority)
                return true;
            if (b.item.priority < a.item.priority)
                return false;
            return a.sequence < b.sequence;
        }
    };
    //! The std heap functions keep the greatest on top: the entry that comes out first must
    //! compare greatest, so every other entry is "later".
    struct Later {
        bool operator()(const Entry &a, const Entry &b) const { return Earlier{}(b, a); }
    };

    //! Below this many pending entries, a get keeps them in the heap rather than merging.
    static constexpr std::size_t mergeThreshold = 64;

    [[nodiscard]] std::size_t runLeft() const { return m_run.size() - m_head; }

    template<typename Fn>
    void forEachEntry(Fn fn) const
    {
        std::for_each(m_run.begin() + std::ptrdiff_t(m_head), m_run.end(), fn);
        std::for_each(m_pending.begin(), m_pending.end(), fn);
    }

    //! Makes the whole pending buffer a heap (puts append past its heap part).
    void heapifyPending()
    {
        while (m_heapSize < m_pending.size())
            std::push_heap(m_pending.begin(), m_pending.begin() + std::ptrdiff_t(++m_heapSize),
                           Later{});
    }

    //! Sorts the pending buffer into the run.
    void mergePending()
    {
        // The heap part holds the oldest pending entries: back to arrival order, the whole
        // buffer is in arrival order, and a stable sort by priority alone orders it fully.
        std::sort(m_pending.begin(), m_pending.begin() + std::ptrdiff_t(m_heapSize),
                  [](const Entry &a, const Entry &b) { return a.sequence < b.sequence; });
        m_heapSize =
            0; // all in arrival order now: still valid if the sort below runs out of memory
        if constexpr (RadixSortable<P>) {
            if (m_pending.size() <= std::numeric_limits<std::uint32_t>::max()) {
                radixSortStable(m_pending,
                                [](const Entry &entry) { return radixKey(entry.item.priority); });
            } else {
                sortByPriority();
            }
        } else {
            sortByPriority();
        }
        if (runLeft() == 0) {
            m_run.swap(m_pending);
        } else {
            m_run.erase(m_run.begin(), m_run.begin() + std::ptrdiff_t(m_head));
            m_head = 0; // consistent before the insert, which may throw (allocation)
            const auto middle = std::ptrdiff_t(m_run.size());
            m_run.insert(m_run.end(), std::make_move_iterator(m_pending.begin()),
                         std::make_move_iterator(m_pending.end()));
            std::inplace_merge(m_run.begin(), m_run.begin() + middle, m_run.end(), Earlier{});
        }
        m_head = 0;
        m_pending.clear();
        m_heapSize = 0;
    }

    void sortByPriority()
    {
        std::stable_sort(m_pending.begin(), m_pending.end(), [](const Entry &a, const Entry &b) {
            return a.item.priority < b.item.priority;
        });
    }

    std::vector<Entry> m_run; // sorted; entries before m_head are taken
    std::size_t m_head = 0;
    std::vector<Entry> m_pending; // a heap up to m_heapSize, then entries in arrival order
    std::size_t m_heapSize = 0;
    std::uint64_t m_nextSequence = 0;
};

//! A priority type whose `<` cannot throw: the fast storage may reorder entries with it.
template<typename P>
concept NothrowLess = requires(const P &a, const P &b)
{
    {
        a < b
    }
    noexcept->std::convertible_to<bool>;
};

//! The storage of a PriorityQueue whose priority's `<` may throw (is not noexcept).
/*!
 * Sorting and heap algorithms leave their range scrambled (an entry moved out into a
 * temporary) when a comparison throws, so this storage compares only before anything moves:
 * a put finds its place by binary search (a throwing comparison leaves the queue and the
 * caller's item as they were), then inserts there; a get takes the front. O(log n)
 * comparisons and O(n) moves per put, O(1) amortized per get.
 */
template<typename T, typename P>
class OrderedPriorityStorage : public PriorityItems<T, P> {
public:
    using Item = PriorityItem<T, P>;

    void push(T &&value, const P &priority)
    {
        // Everything that can throw comes before the value moves: the priority's copy, the
        // comparisons (FIFO among equals: after every entry of an equal priority) and the
        // allocation; with room reserved, the insert only moves entries, which cannot throw.
        P key = priority;
        const auto at =
            std::upper_bound(m_items.begin() + std::ptrdiff_t(m_head), m_items.end(), key,
                             [](const P &k, const Item &item) { return k < item.priority; });
        const auto offset = at - m_items.begin();
        if (m_items.size() == m_items.capacity())
            m_items.reserve(std::max<std::size_t>(16, 2 * m_items.capacity()));
        m_items.insert(m_items.begin() + offset, Item{std::move(value), std::move(key)});
    }
    Item pop()
    {
        Item item = std::move(m_items[m_head]);
        if (++m_head == m_items.size()) {
            m_items.clear();
            m_head = 0;
        } else if (m_head >= 64 && m_head * 2 >= m_items.size()) {
            m_items.erase(m_items.begin(), m_items.begin() + std::ptrdiff_t(m_head));
            m_head = 0;
        }
        return item;
    }
    void clear()
    {
        m_items.clear();
        m_head = 0;
    }
    [[nodiscard]] std::size_t size() const { return m_items.size() - m_head; }
    [[nodiscard]] std::map<P, int> counts() const
    {
        std::map<P, int> counts;
        for (auto it = m_items.begin() + std::ptrdiff_t(m_head); it != m_items.end(); ++it)
            ++counts[it->priority];
        return counts;
    }
    [[nodiscard]] int count(const P &priority) const
    {
        int n = 0;
        for (auto it = m_items.begin() + std::ptrdiff_t(m_head); it != m_items.end(); ++it)
            n += !(it->priority < priority) && !(priority < it->priority);
        return n;
    }

private:
    std::vector<Item> m_items; // sorted by priority, FIFO among equals; taken before m_head
    std::size_t m_head = 0;
};

//! The storage a PriorityQueue<T, P> uses.
template<typename T, typename P>
using PriorityStorageFor =
    std::conditional_t<NothrowLess<P>, PriorityStorage<T, P>, OrderedPriorityStorage<T, P>>;

} // namespace detail
} // namespace QtAio
