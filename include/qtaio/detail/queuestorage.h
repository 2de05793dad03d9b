// SPDX-License-Identifier: MIT
#pragma once

// Storage policies of the QtAio queues. Accessed only under the queue's lock.

#include <qtaio/detail/basicqueue.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <utility>
#include <vector>

namespace QtAio {

//! An item taken from a PriorityQueue together with its priority.
template<typename T, typename P>
struct PriorityItem {
    T value;
    P priority;
};

namespace detail {

//! First in, first out (\a Lifo false) or last in, first out (\a Lifo true).
template<typename T, bool Lifo>
class SequenceStorage {
public:
    using value_type = T;
    using Key = NoKey;
    using Item = T;

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

//! Lowest priority value first; first in, first out among equal priorities (a binary heap
//! ordered by priority, then by arrival).
template<typename T, typename P>
class PriorityStorage {
public:
    using value_type = T;
    using Key = P;
    using Item = PriorityItem<T, P>;

    static Item makeItem(T &&value, const Key &priority)
    {
        return Item{std::move(value), priority};
    }
    static T value(Item &&item) { return std::move(item.value); }

    void push(T &&value, const Key &priority)
    {
        m_heap.push_back(Entry{Item{std::move(value), priority}, m_nextSequence++});
        std::push_heap(m_heap.begin(), m_heap.end(), Later{});
    }
    Item pop()
    {
        std::pop_heap(m_heap.begin(), m_heap.end(), Later{});
        Item item = std::move(m_heap.back().item);
        m_heap.pop_back();
        return item;
    }
    void clear() { m_heap.clear(); }
    [[nodiscard]] std::size_t size() const { return m_heap.size(); }
    //! Number of stored items per priority, in priority order. Counted on demand (a scan of
    //! the queue), so that put and get pay nothing for it.
    [[nodiscard]] std::map<P, int> counts() const
    {
        std::map<P, int> counts;
        for (const Entry &entry : m_heap)
            ++counts[entry.item.priority];
        return counts;
    }
    //! Number of stored items with \a priority (a scan of the queue).
    [[nodiscard]] int count(const P &priority) const
    {
        return int(std::count_if(m_heap.begin(), m_heap.end(), [&](const Entry &entry) {
            return !(entry.item.priority < priority) && !(priority < entry.item.priority);
        }));
    }

private:
    struct Entry {
        Item item;
        std::uint64_t sequence;
    };
    // std heap functions keep the "largest" on top: the entry that should come out first
    // must compare greatest, i.e. every other entry is "later".
    struct Later {
        bool operator()(const Entry &a, const Entry &b) const
        {
            if (b.item.priority < a.item.priority)
                return true;
            if (a.item.priority < b.item.priority)
                return false;
            return a.sequence > b.sequence;
        }
    };

    std::vector<Entry> m_heap;
    std::uint64_t m_nextSequence = 0;
};

} // namespace detail
} // namespace QtAio
