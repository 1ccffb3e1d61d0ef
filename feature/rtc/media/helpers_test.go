package media

import "io"

var errEOF = io.EOF
