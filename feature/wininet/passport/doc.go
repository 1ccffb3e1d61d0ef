// Package passport is a Passport 1.4 ("Tweener") sign-in client, the
// part of WinInet's Passport SSI 1.4 support that MSNP8 messenger clients use.
//
// Sign-in takes three HTTP requests:
//
//  1. GET the nexus (https://nexus.passport.com/rdr/pprdr.asp by default); its
//     PassportURLs response header names the login server in DALogin
//     (host/path without a scheme: the scheme is https).
//  2. GET the DALogin URL with an "Authorization: Passport1.4 OrgVerb=GET,
//     OrgURL=...,sign-in=...,pwd=...,<challenge>" header, where <challenge>
//     is the string the notification server sent in "USR n TWN S <challenge>".
//  3. Read the answer: 200 with "Authentication-Info: Passport1.4
//     da-status=success,...,from-PP='<ticket>'"; 302 with a Location to retry
//     the same request at (bounded); or 401 (wrong account or password).
//
// The ticket goes back to the notification server in "USR n TWN S <ticket>".
//
// HTTPS is verified against a caller-supplied certificate pool (the device
// store plus, for labs, an extra CA file). Plain HTTP is refused unless the
// caller sets AllowHTTP, which logs a warning. The password is never logged
// and is redacted from every error.
package passport
