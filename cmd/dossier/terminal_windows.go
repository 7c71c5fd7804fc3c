package main

import "os"

// openConsole opens the console's input and output buffers, which exist
// even when standard input and output are redirected. CONIN$ is opened
// for writing too: reading a passphrase changes its mode (no echo).
func openConsole() (in, out *os.File, err error) {
	in, err = os.OpenFile("CONIN$", os.O_RDWR, 0)
	if err != nil {
		return nil, nil, err
	}
	out, err = os.OpenFile("CONOUT$", os.O_WRONLY, 0)
	if err != nil {
		in.Close()
		return nil, nil, err
	}
	return in, out, nil
}
