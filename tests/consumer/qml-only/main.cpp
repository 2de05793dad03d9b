// SPDX-License-Identifier: MIT
// A QML application that does not link QtAio, like the `qml` tool: it finds the module QtAio
// through QML_IMPORT_PATH only, and the QtAio libraries only through the module's plugin.

#include "../runqml.h"

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s FILE.qml\n", argv[0]);
        return 2;
    }
    return runQml(QString::fromLocal8Bit(argv[1]));
}
