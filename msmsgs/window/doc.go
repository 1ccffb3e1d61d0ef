// Package window is the Messenger window (SYSGEN_MESSENGER_WINDOW): the
// device's graphical Messenger, drawn in pure Go on the framebuffer, with
// no X or Wayland. It shows the sign-in screen, the contact list grouped by
// status with status icons, the user's own name and status, conversations
// with history, typing indicator, animated emoticons and file offers with
// progress, and a status menu; everything is reachable from the keyboard.
// F5 shows the service's start page (setting window.start_page, default
// /start/ on the service's HTTP address) in a browser control host pane
// (feature/browserhost, SYSGEN_SHDOCVW; build tag sysgen_shdocvw) fetched
// with the daemon's WinInet client; Tab, Shift-Tab, Enter, Up, Down and
// Backspace go to the pane, Esc back to the contacts. A design without
// SYSGEN_SHDOCVW links no browser code and says so in one line.
//
// Voice calls (the daemon's call-* events, calls.go) show in the peer's
// conversation: an incoming call bar (F6 answers, F7 declines), F6 on a
// contact or conversation calls, and a connected call shows its codec,
// duration, mute state (F8) and media figures; its end and the reason
// go into the history. The tablet's pointer selects and opens contacts,
// picks status menu entries and follows the start page's links.
//
// The window is a client of the msmsgs daemon like `msmsgs ctl` and the
// console: it reads the daemon's event stream and sends ctl commands over
// the control socket (Session). Drawing (Renderer) is separate from the
// device: it renders a Model into an *image.RGBA, which the host tests
// write as PNG and the device copies to the framebuffer (drivers/display).
// Pictures are decoded through the imaging service (feature/imaging) with
// the design's GIF and PNG decoders; one the image cannot decode is shown
// as its text code. Every string comes from msgslang (win.* and status.* keys), so the
// locale setting changes the window's language; the Japanese glyphs come
// from a glyph atlas built from IPA P Gothic (internal/assetgen), the Latin
// ones from the Go fonts.
package window
