// SPDX-License-Identifier: MIT
// Misuse: a queue of a type whose move may throw (here: copy-only, the copy may throw).
#include <qtaio/asyncqueue.h>

#include <stdexcept>

struct CopyOnly {
    CopyOnly() = default;
    CopyOnly(const CopyOnly &) { throw std::bad_alloc(); }
    CopyOnly &operator=(const CopyOnly &) = default;
};

bool misuse(QtAio::AsyncQueue<CopyOnly> &queue)
{
    return queue.tryPut(CopyOnly());
}
