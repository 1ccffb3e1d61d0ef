package main

// catalog holds every user-visible string of msmsgs in English, keyed: the
// source of msgslang's locale files (go generate ./msgslang) and the
// fallback when a locale file or key is missing. Call sites only use
// text(key, args...) (lang.go).
var catalog = map[string]string{
	// Usage.
	"usage": `usage: msmsgs COMMAND [flags]

commands:
  daemon    sign in and serve the control socket (flags below)
  console   sign in and run the text console on standard input/output
  ctl       drive a running daemon: msmsgs ctl [-ctl PATH] COMMAND [ARGS]
            (msmsgs ctl help lists the commands)

daemon and console flags:
`,
	"usage.ctl": `usage: msmsgs ctl [-ctl PATH] COMMAND [ARGS]

commands:
  wait-signin [-timeout 30s]        wait until signed in (exit 1 on error/timeout)
  status                            print own state as JSON
  status set STATUS                 set status: online busy idle brb away phone lunch hidden
  name NAME...                      set the friendly name
  contacts                          print the contact list as JSON
  conversations                     print open conversations as JSON
  add EMAIL | remove EMAIL          add to / remove from the contact list
  block EMAIL | unblock EMAIL       block (they see you offline) / unblock
  privacy allow|block               who may see you: everyone not blocked, or only allowed
  send EMAIL TEXT...                send a message; exit 0 only if acknowledged
  typing EMAIL                      send a typing notification
  sendto CONV TEXT...               send a message in conversation CONV (c1, c2, ...)
  invite CONV EMAIL                 ask EMAIL to join conversation CONV
  leave CONV                        leave conversation CONV
  events [-since SEQ]               stream events as JSON lines
  wait [-timeout 30s] [-since SEQ] TYPE [KEY=VALUE...]
                                    print the first matching event; exit 1 on timeout
  sendfile [-no-wait] [-name NAME] EMAIL PATH
                                    offer a file; exit 0 only when delivered completely
                                    (-no-wait: print the cookie and return after the offer)
  accept COOKIE | reject COOKIE     answer a file offer (see the ft-offer event)
  cancel COOKIE                     cancel a file transfer, sent or received, at any stage
  transfers                         print file transfers as JSON
  signin ACCOUNT < PASSWORDFILE      sign in when no account is configured (password from stdin or a prompt)
  signout                           sign out the account signin signed in
  call EMAIL                        start a voice call (events call-ringing, call-connected)
  answer [ID] | decline [ID]        answer or decline a call offered to you (call-offer)
  hangup [ID]                       end a call at any stage
  dtmf ID DIGITS | mute ID on|off   send keypad digits in a call; stop or resume sending audio
  calls                             print calls as JSON
  picture FILE|URL                  decode a picture (imaging service): format, size, frames, time
  page [-width PX] URL              open a page in the browser control host and describe it as JSON
  status sip: | status set STATUS sip:
                                    the SIP account's state / set the status it shows
  wait-signin sip: | contacts sip:  wait for the SIP account's sign-in / print its contacts
  add sip:URI | remove sip:URI      watch / stop watching a SIP contact's presence
  send sip:URI TEXT...              send an instant message on the SIP account
`,
	"flag.server":         "dispatch server `host:port` (setting msmsgs.server)",
	"flag.nexus":          "Passport nexus `URL` (setting msmsgs.nexus)",
	"flag.account":        "account `e-mail` address (setting msmsgs.account)",
	"flag.password-file":  "read the password from `FILE` (or set MSMSGS_PASSWORD)",
	"flag.ca":             "extra trusted CA certificate `FILE` in PEM (setting msmsgs.ca_file)",
	"flag.ctl":            "control socket `path` (setting msmsgs.ctl)",
	"flag.config":         "device settings `FILE` (JSON with keys like msmsgs.server)",
	"flag.status":         "status after sign-in (setting msmsgs.status)",
	"flag.proxy":          "proxy `URL`: socks5://, socks4://, socks4a:// or http://host:port (setting msmsgs.proxy)",
	"flag.proxy-mode":     "with an http:// proxy: `auto` (CONNECT, else the HTTP gateway), connect or gateway (setting msmsgs.proxy_mode)",
	"flag.gateway":        "MSN HTTP gateway `URL` (setting msmsgs.gateway; default http://SERVER-HOST/gateway/gateway.dll)",
	"flag.insecure-http":  "lab only: allow Passport sign-in over plain HTTP",
	"flag.v":              "log debug messages",
	"flag.keepalive":      "interval between keepalive pings (PNG)",
	"flag.reconnect-max":  "longest wait between reconnection attempts",
	"flag.timeout":        "how long to wait",
	"flag.since":          "also match events after this sequence number",
	"flag.no-wait":        "return after the offer was sent (prints the cookie)",
	"flag.ft-name":        "offer the file under this `name` instead of its base name",
	"flag.downloads":      "folder for received files (setting msmsgs.downloads; default STATE_DIR/downloads)",
	"flag.ft-ports":       "file transfer listening `ports` LOW-HIGH or PORT (setting msmsgs.ft_ports; default 6891-6900)",
	"flag.ft-max-size":    "largest file accepted, in `bytes` (K, M, G suffixes; setting msmsgs.ft_max_size; default: free space)",
	"flag.ft-address":     "`IP` address advertised to file receivers (setting msmsgs.ft_address; default automatic)",
	"flag.ft-send-rate":   "limit each file sent to this many `bytes` per second (K, M, G suffixes; setting msmsgs.ft_send_rate)",
	"flag.ft-auto-accept": "accept offered files without asking (setting msmsgs.ft_auto_accept)",
	"flag.locale":         "show messages in this `locale`, e.g. de-DE or 0407 (setting msmsgs.locale; default en-US)",
	"flag.lang-dir":       "folder with the locale `files` (setting msmsgs.lang_dir; default /usr/share/msgslang)",

	// Configuration problems.
	"err.no-server":        "no server: set -server host:port or msmsgs.server in the settings file",
	"err.no-account":       "no account: set -account user@domain or msmsgs.account in the settings file",
	"err.no-password":      "no password: use -password-file FILE, MSMSGS_PASSWORD, or msmsgs.password in the settings file",
	"err.config":           "settings file %s: %v (it must be one JSON object with keys like \"msmsgs.server\")",
	"err.password":         "read password file: %v (check -password-file)",
	"err.proxy":            "proxy %q: %v (use socks5://, socks4://, socks4a:// or http://host:port)",
	"err.status":           "unknown status %q (use online, busy, idle, brb, away, phone, lunch or hidden)",
	"err.ctl-connect":      "cannot reach the msmsgs daemon at %s: %v (is `msmsgs daemon` running? pass -ctl PATH)",
	"err.ctl-listen":       "control socket %s: %v (another msmsgs running? choose another -ctl PATH)",
	"err.unknown-cmd":      "unknown command %q",
	"err.args":             "%s: wrong arguments (usage: %s)",
	"err.no-conv":          "no open conversation %q (list them with: msmsgs ctl conversations)",
	"err.timeout":          "no matching event within %v",
	"err.lagged":           "event stream fell behind and was closed; reconnect with -since %d",
	"err.console-encoding": "console.encoding %q is not an encoding (use utf-8, ascii or auto)",

	// File transfer.
	"err.ft-ports":           "file transfer ports %q: %v (set msmsgs.ft_ports like 6891-6900)",
	"err.ft-max-size":        "msmsgs.ft_max_size %q: %v",
	"err.ft-send-rate":       "msmsgs.ft_send_rate %q: %v",
	"err.ft-address":         "msmsgs.ft_address %q is not an IP address (leave it empty for automatic)",
	"err.ft-open":            "cannot read %s: %v (give the path of a readable file)",
	"err.ft-not-file":        "%s is not a regular file (only files can be sent)",
	"err.ft-conv":            "cannot open a conversation with %s: %v (is the contact online?)",
	"err.ft-cookie":          "file transfer cookie already in use; try again",
	"err.ft-invite":          "the file offer to %s was not delivered: %v",
	"err.ft-answered":        "offer %d was already answered (see: msmsgs ctl transfers)",
	"err.ft-no-offer":        "no file offer with cookie %d (see: msmsgs ctl transfers)",
	"err.ft-no-transfer":     "no file transfer with cookie %d (see: msmsgs ctl transfers)",
	"err.ft-finished":        "file transfer %d has already ended (%s)",
	"err.ft-not-delivered":   "%s not delivered: %s: %s",
	"err.ft-conv-closed":     "the conversation with %s ended before the transfer started; offer the file again",
	"err.ft-bad-cookie":      "%q is not a transfer cookie (a positive number from ft-offer or sendfile -no-wait)",
	"ft.cancelled":           "you cancelled the transfer",
	"ft.peer-cancelled":      "the other side cancelled the transfer",
	"ft.peer-cancelled-code": "%s cancelled the transfer (%s)",
	"ft.rejected":            "%s declined the file (%s)",
	"ft.you-rejected":        "you declined the file",
	"log.ft-downloads":       "downloads folder not usable; received files will be refused",

	// Console.
	"con.welcome":      "msmsgs console. Type /help for commands.",
	"con.help":         "commands: /list  /status STATUS  /name NAME  /msg EMAIL TEXT  /to CONV TEXT  /convs\n          /add EMAIL  /remove EMAIL  /block EMAIL  /unblock EMAIL  /privacy allow|block\n          /invite CONV EMAIL  /leave CONV  /sendfile EMAIL PATH  /accept [COOKIE]\n          /reject [COOKIE]  /cancel COOKIE  /transfers  /call EMAIL  /answer [ID]\n          /hangup [ID]  /calls  /quit\nstatuses: online busy idle brb away phone lunch hidden",
	"con.signed-in":    "* signed in as %s (%s), status %s",
	"con.presence":     "* %s (%s) is now %s",
	"con.own-status":   "* your status is now %s",
	"con.message":      "[%s] %s: %s",
	"con.typing":       "[%s] %s is typing...",
	"con.added-by":     "* %s (%s) added you to their contact list (/add %s to add them back, /block %s to block)",
	"con.removed-by":   "* %s removed you from their contact list",
	"con.contacts":     "* contact list: %s %s",
	"con.joined":       "[%s] %s joined",
	"con.left":         "[%s] %s left",
	"con.delivered":    "[%s] (delivered)",
	"con.undelivered":  "* message to %s NOT delivered: %s",
	"con.disconnected": "* disconnected: %s",
	"con.error":        "* error: %s",
	"con.invitation":   "* %s sent an invitation (%s) that this device cannot accept",
	"con.contact-line": "  %-30s %-16s %s%s",
	"con.sip-status":   "%s: %s, %s (server %s, realm %s)%s",
	"con.help-sip":     "SIP account: /status [STATUS] sip:  /list sip:  /msg sip:USER@DOMAIN TEXT  /add sip:URI\n          /remove sip:URI  /call sip:URI (the call commands as for EMAIL)",
	"con.no-contacts":  "  (no contacts)",
	"con.conv-line":    "  %s: %s",
	"con.no-convs":     "  (no conversations)",
	"con.blocked":      " [blocked]",
	"con.ok":           "ok",
	"con.unknown":      "unknown command %q; type /help",
	"con.bad-args":     "usage: %s",
	"con.failed":       "failed: %v",
	"con.bye":          "signing out",
	"con.ft-offer":     "* %s offers the file %q (%s); /accept %d or /reject %d",
	"con.ft-progress":  "* %q: %s of %s (%d%%)",
	"con.ft-waiting":   "* %q: %s",
	"con.ft-done":      "* %q: done, %s",
	"con.ft-failed":    "* %q: failed: %s",
	"con.ft-cancelled": "* %q: cancelled: %s",
	"con.ft-sending":   "* offered %q to %s (cookie %d); waiting for an answer",
	"con.ft-line":      "  %d %-7s %-12s %s %q %s/%s",
	"con.ft-none":      "  (no file transfers)",
	"con.ft-no-offer":  "no open file offer; give the cookie (see /transfers)",

	// Voice calls.
	"err.voice-none":        "voice calls are not in this device's design (add SYSGEN_RTC to the OS design and rebuild the image)",
	"err.voice-start":       "voice calls are off: %v (check rtc.sip_port and rtc.media_ports; is another program using the port?)",
	"err.no-msnp":           "%s is a .NET Messenger command and this msmsgs has only a SIP account; set msmsgs.account (or use the SIP commands: status, contacts, add, remove, send with sip: addresses)",
	"err.call-no-sip":       "no SIP account is configured for a call to a sip: address; set sip.uri (or call an EMAIL over .NET Messenger)",
	"err.call-busy":         "a call is already running; hang it up first (see: msmsgs ctl calls)",
	"err.call-unknown":      "no such call (see: msmsgs ctl calls)",
	"err.call-state":        "the call cannot do that now: %s",
	"err.call-closed":       "voice calls have stopped (signed out)",
	"err.call-failed":       "call failed: %s",
	"err.picture-none":      "picture: picture decoding is not in this device's design (add SYSGEN_IMAGING and its GIF and PNG decoders to the OS design)",
	"err.page-none":         "page: the browser control host is not in this device's design (add SYSGEN_SHDOCVW to the OS design)",
	"err.page-usage":        "page: usage: %s (PX from 64 to 4096)",
	"err.viewer-source":     "%q: give an absolute file path or an http:// or https:// URL",
	"err.viewer-too-big":    "%s is larger than %d bytes",
	"err.call-none-waiting": "no call is waiting for that; give the call id (see: msmsgs ctl calls)",
	"err.call-which":        "%d calls match; give the call id (see: msmsgs ctl calls)",
	"err.call-audio":        "call %s: sound not available, sending silence: %v",
	"con.call-offer":        "* %s is calling (call %s); /answer %s or /hangup %s",
	"con.call-ringing":      "* calling %s (call %s)...",
	"con.call-connected":    "* call %s with %s connected (%s, %s, set up in %s)",
	"con.call-ended":        "* call %s with %s ended: %s",
	"con.call-declined":     "* a call invitation from %s was declined: %s",
	"con.call-dtmf":         "* call %s: %s pressed %s",
	"con.call-line":         "  %s %-10s %-7s %s %s%s",
	"con.call-none":         "  (no calls)",
	"con.call-muted":        " [muted]",

	// Status names shown to the user.
	"status.NLN": "Online",
	"status.BSY": "Busy",
	"status.IDL": "Idle",
	"status.BRB": "Be Right Back",
	"status.AWY": "Away",
	"status.PHN": "On The Phone",
	"status.LUN": "Out To Lunch",
	"status.HDN": "Appear Offline",
	"status.FLN": "Offline",

	// The Messenger window (msmsgs/window, SYSGEN_MESSENGER_WINDOW).
	"win.title":         "Windows Messenger",
	"win.signing-in":    "Signing in as %s...",
	"win.signin-name":   "Sign-in name:",
	"win.signin-failed": "Sign-in failed: %s",
	"win.signin-hint":   "The account is set in the device settings (msmsgs.account).",
	"win.connecting":    "Connecting to the .NET Messenger Service...",
	"win.disconnected":  "Disconnected (%s); reconnecting...",
	"win.my-status":     "(%s)",
	"win.group":         "%s (%d)",
	"win.no-contacts":   "No contacts yet. Add one with: msmsgs ctl add EMAIL",
	"win.hint-contacts": "Up/Down: select  Enter: send a message  F2: my status",
	"win.hint-conv":     "Enter: send  Esc: contacts  F3: accept file  F4: reject",
	"win.hint-status":   "Up/Down: select  Enter: set status  Esc: close",
	"win.status-menu":   "My status",
	"win.conv-title":    "%s - Conversation",
	"win.to":            "To: %s <%s>",
	"win.says":          "%s says:",
	"win.typing":        "%s is typing a message.",
	"win.empty-conv":    "Type a message below and press Enter.",
	"win.undelivered":   "The message could not be delivered: %s",
	"win.ft-offer":      "%s wants to send you the file %q (%s). F3: accept, F4: reject",
	"win.ft-progress":   "%q: %s of %s",
	"win.ft-done":       "%q: received (%s)",
	"win.ft-failed":     "%q: transfer failed: %s",
	"win.ft-cancelled":  "%q: cancelled",
	"win.start-title":   "Windows Messenger - Start page",
	"win.hint-start":    "Tab: next link  Enter: open  Backspace: back  Up/Down: scroll  Esc: contacts",
	"win.start-loading": "Opening %s...",
	"win.start-failed":  "The page could not be shown: %s",
	"win.start-no-url":  "No start page: set window.start_page or msmsgs.gateway in the device settings.",
	"win.no-browser":    "The browser control host (SYSGEN_SHDOCVW) is not in this design.",

	// The window's voice calls (msmsgs/window/calls.go).
	"win.hint-call-incoming":     "F6: answer  F7: decline  Enter: send  Esc: contacts",
	"win.hint-call-ringing":      "F7: hang up  Enter: send  Esc: contacts",
	"win.hint-call":              "F7: hang up  F8: mute/unmute  Enter: send  Esc: contacts",
	"win.call-incoming":          "%s is calling you. F6: answer, F7: decline",
	"win.call-ringing":           "Calling %s...",
	"win.call-connected":         "In a call with %s (%s), %s",
	"win.call-muted":             "[muted]",
	"win.call-stats":             "loss %s%%, jitter %s ms",
	"win.call-offer-line":        "%s called you.",
	"win.call-ended":             "Call ended: %s",
	"win.call-ended-after":       "Call ended after %s: %s",
	"win.call-refused":           "A call was refused: %s",
	"win.call-failed":            "The call command failed: %s",
	"win.call-reason-remote":     "the other person hung up",
	"win.call-reason-local":      "you hung up",
	"win.call-reason-declined":   "declined",
	"win.call-reason-closed":     "the conversation was closed",
	"win.call-reason-signed-out": "signed out",
	"win.call-reason-no-answer":  "no answer",
	"win.call-reason-missed":     "not answered",
	"win.call-reason-cancelled":  "the caller hung up",
	"win.call-reason-vanished":   "no sound from the other side",
	"win.call-reason-ended":      "ended",
	"win.hint-contacts-voice":    "Up/Down: select  Enter: message  F6: call  F2: my status",
	"win.hint-conv-voice":        "Enter: send  Esc: contacts  F3/F4: file  F6: call",

	// Sign-in at run time (msmsgs ctl signin, the window's sign-in form).
	"err.signin-password":      "signin: no password; give it on standard input (msmsgs ctl signin ACCOUNT < FILE) or type it at the prompt",
	"err.signin-password-long": "signin: the password is longer than %d bytes",
	"err.signed-in":            "%s is signed in; sign out first (msmsgs ctl signout)",
	"err.signin-busy":          "a sign-in is already under way; wait for its answer",
	"err.signin-not-running":   "the daemon is not running its accounts yet; try again in a moment",
	"err.not-signed-in":        "no account is signed in (msmsgs ctl signin ACCOUNT)",
	"err.signout-settings":     "%s comes from the settings; signout stops only an account signed in with signin",
	"err.signin-first":         "%s needs a signed-in account: sign in first (msmsgs ctl signin ACCOUNT, or the window's sign-in form)",
	"ctl.password-prompt":      "Password for %s: ",
	"win.signin-title":         "Sign in to .NET Messenger",
	"win.signin-account":       "Account (e-mail address)",
	"win.signin-password":      "Password",
	"win.signin-progress":      "Signing in...",
	"win.hint-signin":          "Tab: next field  Enter: sign in",

	// Log lines.
	"log.signin-wait":   "no account configured: waiting for a sign-in (msmsgs ctl signin ACCOUNT or the window)",
	"log.signed-in":     "signed in",
	"log.signin-failed": "sign-in stopped",
	"log.ctl":           "control socket ready",
}
