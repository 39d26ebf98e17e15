/*
 * xwindow: what a window manager does when the user clicks a window's close
 * button, for the end-to-end test under Xvfb (which runs no window manager).
 *
 *   xwindow close "<title>"   asks every window with that title to close
 *                             (WM_DELETE_WINDOW), as a close button does
 *   xwindow state "<title>"   prints "viewable", "hidden" or "absent"
 *
 * Exit status: 0 on success, 1 when no window has the title, 2 on misuse.
 * The one rule: it only sends the polite close request; it never destroys
 * or kills anything, so the application decides what closing means.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

/* Whether window w's title (_NET_WM_NAME, else WM_NAME) equals title. */
static int has_title(Display *display, Window w, const char *title) {
    Atom net_wm_name = XInternAtom(display, "_NET_WM_NAME", False);
    Atom utf8 = XInternAtom(display, "UTF8_STRING", False);
    Atom type;
    int format;
    unsigned long count, after;
    unsigned char *data = NULL;
    int same = 0;
    if (XGetWindowProperty(display, w, net_wm_name, 0, 1024, False, utf8, &type, &format,
                           &count, &after, &data) == Success && data != NULL) {
        same = strcmp((const char *)data, title) == 0;
        XFree(data);
        if (same) return 1;
    }
    char *name = NULL;
    if (XFetchName(display, w, &name) && name != NULL) {
        same = strcmp(name, title) == 0;
        XFree(name);
    }
    return same;
}

/* Collects windows titled `title` under `w`, depth first, into found. */
static void find(Display *display, Window w, const char *title, Window *found, int *n, int max) {
    if (*n < max && has_title(display, w, title)) found[(*n)++] = w;
    Window root, parent, *children = NULL;
    unsigned int count = 0;
    if (!XQueryTree(display, w, &root, &parent, &children, &count)) return;
    for (unsigned int i = 0; i < count; i++) find(display, children[i], title, found, n, max);
    if (children) XFree(children);
}

int main(int argc, char **argv) {
    if (argc != 3 || (strcmp(argv[1], "close") != 0 && strcmp(argv[1], "state") != 0)) {
        fprintf(stderr, "usage: xwindow close|state \"<window title>\"\n");
        return 2;
    }
    Display *display = XOpenDisplay(NULL);
    if (!display) {
        fprintf(stderr, "xwindow: cannot open display '%s'\n", getenv("DISPLAY") ? getenv("DISPLAY") : "");
        return 2;
    }
    Window found[64];
    int n = 0;
    find(display, DefaultRootWindow(display), argv[2], found, &n, 64);

    if (strcmp(argv[1], "state") == 0) {
        int viewable = 0;
        for (int i = 0; i < n; i++) {
            XWindowAttributes attributes;
            if (XGetWindowAttributes(display, found[i], &attributes) &&
                attributes.map_state == IsViewable)
                viewable = 1;
        }
        puts(n == 0 ? "absent" : viewable ? "viewable" : "hidden");
        XCloseDisplay(display);
        return n == 0 ? 1 : 0;
    }

    Atom protocols = XInternAtom(display, "WM_PROTOCOLS", False);
    Atom delete_window = XInternAtom(display, "WM_DELETE_WINDOW", False);
    int sent = 0;
    for (int i = 0; i < n; i++) {
        Atom *supported = NULL;
        int count = 0;
        int speaks = 0;
        if (XGetWMProtocols(display, found[i], &supported, &count)) {
            for (int k = 0; k < count; k++) speaks |= supported[k] == delete_window;
            XFree(supported);
        }
        if (!speaks) continue;
        XEvent event;
        memset(&event, 0, sizeof event);
        event.xclient.type = ClientMessage;
        event.xclient.window = found[i];
        event.xclient.message_type = protocols;
        event.xclient.format = 32;
        event.xclient.data.l[0] = (long)delete_window;
        event.xclient.data.l[1] = CurrentTime;
        XSendEvent(display, found[i], False, NoEventMask, &event);
        sent++;
    }
    XFlush(display);
    XCloseDisplay(display);
    if (sent == 0) {
        fprintf(stderr, "xwindow: no window titled '%s' takes close requests\n", argv[2]);
        return 1;
    }
    return 0;
}
