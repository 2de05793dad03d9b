// SPDX-License-Identifier: MIT
#include <qtaio/inspection.h>

#include <QtCore/QHash>

#include <atomic>
#include <map>
#include <mutex>

namespace QtAio {

namespace {

// The registry. A primitive's destructor unlists it under the same mutex that forEach() holds
// while it shows the primitive, so a visit never sees an object being destroyed. Lock order:
// the registry's mutex may be held while a primitive's own lock is taken (a getter in a
// visit), never the other way round: add() and remove() are called with no primitive lock
// held.
struct Registry {
    std::mutex mutex;
    std::map<quint64, Inspection::Primitive> byId; // oldest first
    QHash<const QObject *, quint64> ids;
    quint64 nextId = 1;

    static Registry &instance()
    {
        // Leaked on purpose: primitives destroyed during static destruction still unlist.
        static auto *registry = new Registry;
        return *registry;
    }
};

// Read on every construction: a relaxed load when inspection is off.
std::atomic<bool> g_enabled{qEnvironmentVariableIntValue("QTAIO_INSPECTOR") != 0};
// Whether anything was ever listed: destructors skip the registry's lock while it is false.
std::atomic<bool> g_everListed{false};
std::atomic<quint64> g_generation{0};

} // namespace

void Inspection::setEnabled(bool enabled)
{
    auto &registry = Registry::instance();
    std::scoped_lock lock(registry.mutex);
    g_enabled.store(enabled, std::memory_order_relaxed);
    if (!enabled && !registry.byId.empty()) {
        registry.byId.clear();
        registry.ids.clear();
        g_generation.fetch_add(1, std::memory_order_release);
    }
}

bool Inspection::isEnabled() noexcept
{
    return g_enabled.load(std::memory_order_relaxed);
}

void Inspection::forEach(const std::function<void(const Primitive &)> &visit)
{
    auto &registry = Registry::instance();
    std::scoped_lock lock(registry.mutex);
    for (const auto &[id, primitive] : registry.byId)
        visit(primitive);
}

quint64 Inspection::generation() noexcept
{
    return g_generation.load(std::memory_order_acquire);
}

void Inspection::add(QObject *object, Kind kind)
{
    if (!g_enabled.load(std::memory_order_relaxed))
        return;
    auto &registry = Registry::instance();
    std::scoped_lock lock(registry.mutex);
    if (!g_enabled.load(std::memory_order_relaxed))
        return; // disabled meanwhile
    const quint64 id = registry.nextId++;
    registry.ids.insert(object, id);
    try {
        registry.byId.emplace(id, Primitive{id, kind, object});
    } catch (...) {
        registry.ids.remove(object); // listed in both or in neither
        throw;
    }
    g_everListed.store(true, std::memory_order_relaxed);
    g_generation.fetch_add(1, std::memory_order_release);
}

void Inspection::remove(QObject *object) noexcept
{
    if (!g_everListed.load(std::memory_order_relaxed))
        return;
    auto &registry = Registry::instance();
    std::scoped_lock lock(registry.mutex);
    const auto it = registry.ids.constFind(object);
    if (it == registry.ids.cend())
        return;
    registry.byId.erase(*it);
    registry.ids.erase(it);
    g_generation.fetch_add(1, std::memory_order_release);
}

} // namespace QtAio
