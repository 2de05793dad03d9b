// SPDX-License-Identifier: MIT
import QtQuick
import QtTest
import QtAio

TestCase {
    id: testCase
    name: "Queues"

    Component { id: fifoComponent; AsyncQueue {} }
    Component { id: lifoComponent; LifoQueue {} }
    Component { id: priorityComponent; PriorityQueue {} }

    function test_fifoOrderAndValues() {
        const q = createTemporaryObject(fifoComponent, testCase)
        verify(q.tryPut(1))
        verify(q.tryPut("two"))
        verify(q.tryPut({ three: 3 }))
        compare(q.size, 3)
        compare(q.tryGet(), 1)
        compare(q.tryGet(), "two")
        compare(q.tryGet().three, 3)
        compare(q.tryGet(), undefined)
        verify(q.empty)
    }

    function test_lifoOrder() {
        const q = createTemporaryObject(lifoComponent, testCase)
        q.tryPut("a"); q.tryPut("b"); q.tryPut("c")
        compare(q.tryGet(), "c")
        compare(q.tryGet(), "b")
    }

    function test_sizeByPriorityKeysAsJavaScriptNamesNumbers() {
        const q = createTemporaryObject(priorityComponent, testCase)
        const priorities = [1000001, 1000002, Infinity, -Infinity, 0.1 + 0.2, 1e21, -1.5, 1e20]
        for (const p of priorities)
            verify(q.tryPut("item", p))
        verify(q.tryPut("again", 1000001))
        const counts = q.sizeByPriority()
        compare(counts[1000001], 2)
        for (const p of priorities.slice(1))
            compare(counts[p], 1, "priority " + p)
        compare(Object.keys(counts).length, priorities.length)
        // 0 and -0 are one priority, and one key
        const zeros = createTemporaryObject(priorityComponent, testCase)
        verify(zeros.tryPut("a", 0))
        verify(zeros.tryPut("b", -0))
        compare(zeros.sizeByPriority()[0], 2)
        compare(Object.keys(zeros.sizeByPriority()).length, 1)
    }

    function test_priorityOrderFromQml() {
        const q = createTemporaryObject(priorityComponent, testCase)
        verify(q.tryPut("low", 5))
        verify(q.tryPut("urgent", -1.5))
        verify(q.tryPut("mid", 2))
        verify(q.tryPut("urgent-2", -1.5))
        compare(q.sizeOfPriority(-1.5), 2)
        compare(q.sizeByPriority()["5"], 1)
        compare(q.tryGet(), "urgent")
        compare(q.tryGet(), "urgent-2")
        let got = null
        q.getWithPriority().then(item => got = item)
        tryVerify(() => got !== null)
        compare(got.value, "mid")
        compare(got.priority, 2)
    }

    function test_bindingsUpdate() {
        const q = createTemporaryObject(fifoComponent, testCase, { maxSize: 2 })
        const label = createTemporaryQmlObject(
            "import QtQuick; Text { property var queue: null; text: queue ? queue.size + '/' + queue.maxSize + (queue.full ? ' full' : '') : '' }",
            testCase)
        label.queue = q
        compare(label.text, "0/2")
        q.tryPut(1)
        compare(label.text, "1/2")
        q.tryPut(2)
        compare(label.text, "2/2 full")
        q.maxSize = 5
        compare(label.text, "2/5")
    }

    function test_producerConsumerThroughABoundedQueue() {
        const q = createTemporaryObject(fifoComponent, testCase, { maxSize: 2 })
        const received = []
        let producerDone = false
        let peakSize = 0
        q.sizeChanged.connect(() => peakSize = Math.max(peakSize, q.size))
        // Producer: awaits each put, so it waits while the queue is full.
        function produce(i) {
            if (i === 10) {
                producerDone = true
                q.close()
                return
            }
            q.put(i).then(() => produce(i + 1))
        }
        // Consumer: takes until the queue is closed and drained.
        function consume() {
            q.get().then(v => { received.push(v); consume() }, e => {})
        }
        produce(0)
        consume()
        tryVerify(() => producerDone && received.length === 10)
        compare(received, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
        verify(peakSize <= 2)
    }

    function test_getWaitsForPut() {
        const q = createTemporaryObject(fifoComponent, testCase)
        let got
        q.get().then(v => got = v)
        compare(q.waitingGetters, 1)
        q.tryPut("late")
        tryVerify(() => got === "late")
    }

    function test_errorPaths() {
        const q = createTemporaryObject(fifoComponent, testCase)
        let message = ""
        try { q.taskDone() } catch (e) { message = e.message }
        verify(message.indexOf("more times than items were put") >= 0, message)

        q.close()
        verify(q.closed)
        message = ""
        try { q.tryPut(1) } catch (e) { message = e.message }
        verify(message.indexOf("closed") >= 0, message)

        let rejected = ""
        q.put(2).then(() => rejected = "resolved", e => rejected = e.message)
        tryVerify(() => rejected !== "")
        verify(rejected.indexOf("closed") >= 0, rejected)

        rejected = ""
        q.get().then(() => rejected = "resolved", e => rejected = e.message)
        tryVerify(() => rejected !== "")
        verify(rejected.indexOf("closed") >= 0, rejected)
    }

    function test_joinAndTaskDone() {
        const q = createTemporaryObject(fifoComponent, testCase)
        let joined = false
        q.tryPut("job")
        q.join().then(() => joined = true)
        compare(q.unfinishedTasks, 1)
        q.tryGet()
        q.taskDone()
        tryVerify(() => joined)
    }

    function test_badPrioritiesAreRejectedAtTheCall_data() {
        return [
            { tag: "string", value: "high", error: "TypeError" },
            { tag: "NaN", value: NaN, error: "RangeError" },
            { tag: "object", value: { p: 1 }, error: "TypeError" },
            { tag: "null", value: null, error: "TypeError" },
            { tag: "boolean", value: false, error: "TypeError" },
        ]
    }

    function test_badPrioritiesAreRejectedAtTheCall(data) {
        const q = createTemporaryObject(priorityComponent, testCase)
        let name = ""
        try { q.tryPut("x", data.value) } catch (e) { name = e.name }
        compare(name, data.error)
        name = ""
        try { q.put("x", data.value) } catch (e) { name = e.name }
        compare(name, data.error)
        compare(q.size, 0)
        // The order stays intact around a refused put.
        q.tryPut("p1", 1); q.tryPut("p0", 0); q.tryPut("inf", Infinity); q.tryPut("neg", -Infinity)
        compare([q.tryGet(), q.tryGet(), q.tryGet(), q.tryGet()], ["neg", "p0", "p1", "inf"])
    }

    function test_closeModesAreQmlEnums() {
        const q = createTemporaryObject(fifoComponent, testCase)
        q.tryPut(1); q.tryPut(2)
        q.close(AsyncQueue.Drain)
        compare(q.size, 2)
        compare(q.tryGet(), 1)
        const r = createTemporaryObject(fifoComponent, testCase)
        r.tryPut(1)
        r.close(AsyncQueue.Immediate)
        compare(r.size, 0)
        compare(r.unfinishedTasks, 0)
        let name = ""
        try { r.tryGet() } catch (e) { name = e.name }
        compare(name, "QueueClosedError")
        const p = createTemporaryObject(priorityComponent, testCase)
        p.close(PriorityQueue.Immediate)
        verify(p.closed)
    }

    function test_rejectionsSpeakQml() {
        const q = createTemporaryObject(priorityComponent, testCase)
        q.close()
        let thrown = null
        try { q.tryPut("x", 1) } catch (e) { thrown = e }
        compare(thrown.name, "QueueClosedError")
        compare(thrown.message.indexOf("PriorityQueue.tryPut: "), 0, thrown.message)
        let rejected = null
        q.get().then(() => {}, e => rejected = e)
        tryVerify(() => rejected !== null)
        compare(rejected.name, "QueueClosedError")
        compare(rejected.message.indexOf("PriorityQueue.get: "), 0, rejected.message)
        verify(rejected.message.indexOf("::") < 0, rejected.message)
    }
}
