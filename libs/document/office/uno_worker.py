# A kept-running LibreOffice for one converter slot (libs/document/src/office.cpp
# starts it; python3-uno talks to LibreOffice). LibreOffice takes ~1 s of CPU to start;
# started once and kept, each office document costs only its load and PDF export.
#
# argv: soffice, profile URL (-env:UserInstallation), pipe name.
# stdin: one request a line, "<input path>\t<output pdf path>".
# stdout: "ready" once LibreOffice answers, then one line a request: "ok",
#         "error <reason>", or "gone" when LibreOffice is dead (it died before the
#         request, or on this document); the worker then exits, and the converter
#         starts another and asks once more.
# When stdin closes (the converter stopped or died), LibreOffice and this worker are
# killed together (they share the process group the converter made for them). When
# LibreOffice dies, the worker exits; the converter starts a new one on the next call.
import os
import signal
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue

EXPORT_FILTERS = [  # the document's service -> its PDF export filter
    ("com.sun.star.text.GenericTextDocument", "writer_pdf_Export"),
    ("com.sun.star.sheet.SpreadsheetDocument", "calc_pdf_Export"),
    ("com.sun.star.presentation.PresentationDocument", "impress_pdf_Export"),
    ("com.sun.star.drawing.DrawingDocument", "draw_pdf_Export"),
]


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def connect(office, pipe):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    while True:
        if office.poll() is not None:
            sys.exit(3)
        try:
            ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except Exception:
            time.sleep(0.05)


def alive(office, desktop):
    # LibreOffice runs under its launcher: the launcher may not have noticed yet that
    # LibreOffice died, the bridge has.
    if office.poll() is not None:
        return False
    try:
        desktop.getFrames()
        return True
    except Exception:
        return False


def convert(desktop, source, target):
    # Macros never run: the document is untrusted.
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(source), "_blank", 0,
                                       (prop("Hidden", True), prop("ReadOnly", True),
                                        prop("MacroExecutionMode", 0)))
    if doc is None:
        raise RuntimeError("LibreOffice could not open the document")
    try:
        name = next((f for service, f in EXPORT_FILTERS if doc.supportsService(service)), None)
        if name is None:
            raise RuntimeError("not a text, spreadsheet, presentation or drawing")
        doc.storeToURL(uno.systemPathToFileUrl(target), (prop("FilterName", name),))
    finally:
        doc.close(True)


def main():
    soffice, profile, pipe = sys.argv[1:4]
    office = subprocess.Popen(
        [soffice, "-env:UserInstallation=" + profile, "--headless", "--invisible", "--nologo", "--norestore",
         "--nolockcheck", "--nodefault", "--accept=pipe,name=%s;urp;StarOffice.ComponentContext" % pipe],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    desktop = connect(office, pipe)
    print("ready", flush=True)
    for line in sys.stdin:
        if not alive(office, desktop):
            print("gone", flush=True)
            sys.exit(3)
        source, _, target = line.rstrip("\n").partition("\t")
        try:
            convert(desktop, source, target)
            print("ok", flush=True)
        except Exception as e:
            if not alive(office, desktop):  # died before the request, or on this document
                print("gone", flush=True)
                sys.exit(3)
            print("error " + " ".join(str(e).split()), flush=True)
    os.killpg(0, signal.SIGKILL)


if __name__ == "__main__":
    main()
