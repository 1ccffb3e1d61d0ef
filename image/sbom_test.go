package image

import "testing"

func TestClassifyLicense(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"Apache License\nVersion 2.0, January 2004", "Apache-2.0"},
		{"Permission is hereby granted, free of charge, to any person", "MIT"},
		{"Redistribution and use in source and binary forms ... Neither the name of Google Inc. nor the names of its contributors may be used to endorse or promote products", "BSD-3-Clause"},
		{"Redistribution and use in source and binary forms, with or without modification. THIS SOFTWARE IS PROVIDED", "BSD-2-Clause"},
		{"Copyright (c) 2012 The Go Authors.\nRedistribution and use in source and binary forms ... may be used to endorse or promote\n\nApache License Version 2.0", "BSD-3-Clause"},
		{"Mozilla Public License Version 2.0", "MPL-2.0"},
		{"Permission to use, copy, modify, and/or distribute this software", "ISC"},
		{"some custom terms", ""},
	} {
		if got := classifyLicense(tc.text); got != tc.want {
			t.Errorf("classifyLicense(%.40q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}
