// SPDX-License-Identifier: MIT
// Loaded by the consumer test from the installed tree: every QtAio type must be usable.
// [qml]
import QtQml
import QtAio

QtObject {
    property AsyncQueue queue: AsyncQueue { maxSize: 2 }
    property PriorityQueue priorities: PriorityQueue {}
    property LifoQueue stack: LifoQueue {}
    property Latch latch: Latch { count: 1 }
    property Semaphore semaphore: Semaphore { capacity: 1 }
    property TaskExecutor executor: TaskExecutor { limit: 2 }

    Component.onCompleted: {
        stack.tryPut(1)
        priorities.tryPut("x", 1)
        queue.put(20).then(() => queue.get())
            .then(v => executor.run(() => v + 1))
            .then(v => semaphore.acquire().then(() => v))
            .then(v => { latch.countDown(); return latch.wait().then(() => v) })
            .then(v => Qt.exit(v === 21 && stack.tryGet() === 1 && priorities.tryGet() === "x" ? 0 : 4),
                  e => { console.warn(e.message); Qt.exit(5) })
    }
}
// [qml]
