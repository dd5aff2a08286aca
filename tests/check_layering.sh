#!/usr/bin/env bash
# Fails when a lower layer includes a higher one: backend/ must not include ui/ or any Qt GUI
# module, and backend/core must not include other backend layers.
set -u
root=${1:-.}
status=0
if grep -rnE '#include *[<"](ui/|\.\./\.\./ui/|QtWidgets|QtGui|QWidget|QApplication|QtCharts)' "$root/backend"; then
    echo "layering: backend/ includes GUI code (above)" >&2
    status=1
fi
if grep -rnE '#include *"\.\./(store|auth|http|observe|server)/' "$root/backend/core"; then
    echo "layering: backend/core includes another backend layer (above)" >&2
    status=1
fi
if grep -rnE 'Qt6::(Gui|Widgets|Charts)' "$root/backend/CMakeLists.txt"; then
    echo "layering: outpost_backend links a GUI module" >&2
    status=1
fi
[ $status -eq 0 ] && echo "layering: ok"
exit $status
