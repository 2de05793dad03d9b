// SPDX-License-Identifier: MIT
// Misuse: emitting a primitive's signal from outside. Only the object reports its own changes
// (its signals take QPrivateSignal).
#include <qtaio/latch.h>

void misuse(QtAio::Latch &latch)
{
    Q_EMIT latch.releasedChanged(true, QtAio::Latch::QPrivateSignal());
}
