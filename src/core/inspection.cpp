// SPDX-License-Identifier: MIT
#include <qtaio/inspection.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QFileInfo>
#include <QtCore/QHash>
#include <QtCore/QLibrary>
#include <QtCore/QLoggingCategory>

#include <atomic>
#include <map>
#include <mutex>

#if defined(QTAIO_INSPECTOR_LIBRARY) && __has_include(<dlfcn.h>)
#include <dlfcn.h>
#define QTAIO_HAVE_DLADDR 1
#endif

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
// QTAIO_INSPECTOR=1 also opens the inspector window, once, after the first primitive is listed
// while an application object exists.
std::atomic<bool> g_openPending{qEnvironmentVariableIntValue("QTAIO_INSPECTOR") != 0};

Q_LOGGING_CATEGORY(lcInspector, "qtaio.inspector")

#ifdef QTAIO_INSPECTOR_LIBRARY
// Where the inspector library may be: the directory of this library first (an installed
// QtAio, whose libraries share a directory, and the build tree, where they do too), then the
// dynamic loader's own search.
QStringList inspectorLibraryCandidates()
{
    const QString fileName = QStringLiteral(QTAIO_INSPECTOR_LIBRARY);
    QStringList candidates;
#ifdef QTAIO_HAVE_DLADDR
    Dl_info info{};
    if (dladdr(reinterpret_cast<const void *>(&Inspection::isEnabled), &info) != 0 &&
        info.dli_fname) {
        const QFileInfo self(QFile::decodeName(info.dli_fname));
        candidates.append(self.absolutePath() + QLatin1Char('/') + fileName);
    }
#endif
    candidates.append(fileName);
    return candidates;
}
#endif

// Runs in the application's thread. The inspector is a Qt Quick window: a console
// application (a QCoreApplication) has nothing to show it with.
void openInspector()
{
    QCoreApplication *app = QCoreApplication::instance();
    if (!app || !app->inherits("QGuiApplication"))
        return;
#ifdef QTAIO_INSPECTOR_LIBRARY
    const QStringList candidates = inspectorLibraryCandidates();
    for (const QString &candidate : candidates) {
        QLibrary library(candidate);
        if (!library.load())
            continue;
        // The library stays loaded: QLibrary does not unload it when destroyed.
        using Open = void (*)();
        if (auto open = reinterpret_cast<Open>(library.resolve("qtaio_inspector_open"))) {
            open();
        } else {
            qCWarning(lcInspector, "QTAIO_INSPECTOR=1: %s has no qtaio_inspector_open()",
                      qUtf8Printable(library.fileName()));
        }
        return;
    }
    qCWarning(lcInspector,
              "QTAIO_INSPECTOR=1: the QtAio Inspector library was not found (tried %s; a bare "
              "file name is looked up in the library search path)",
              qUtf8Printable(candidates.join(QLatin1String(", "))));
#else
    qCWarning(lcInspector, "QTAIO_INSPECTOR=1: this QtAio was built without its Inspector "
                           "(QTAIO_BUILD_INSPECTOR=OFF)");
#endif
}

void openInspectorOnce()
{
    QCoreApplication *app = QCoreApplication::instance();
    if (!app || !g_openPending.exchange(false))
        return;
    QMetaObject::invokeMethod(app, &openInspector, Qt::QueuedConnection);
}

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

void Inspection::add(QObject *object, Kind kind, const char *typeName, Probe probe)
{
    if (!g_enabled.load(std::memory_order_relaxed))
        return;
    {
        auto &registry = Registry::instance();
        std::scoped_lock lock(registry.mutex);
        if (!g_enabled.load(std::memory_order_relaxed))
            return; // disabled meanwhile
        const quint64 id = registry.nextId++;
        registry.ids.insert(object, id);
        try {
            registry.byId.emplace(id, Primitive{id, kind, object, probe, typeName});
        } catch (...) {
            registry.ids.remove(object); // listed in both or in neither
            throw;
        }
        g_everListed.store(true, std::memory_order_relaxed);
        g_generation.fetch_add(1, std::memory_order_release);
    }
    if (g_openPending.load(std::memory_order_relaxed))
        openInspectorOnce();
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
