package main

import "os"

// openConsole opens the console's input and output buffers, which exist
// even when standard input and output are redirected. Both are opened
// for reading and writing: reading a passphrase changes CONIN$'s mode (no
// echo), and Windows answers GetConsoleMode, which tells a console from a
// file, only for an output handle that may also read.
func openConsole() (in, out *os.File, err error) {
	in, err = os.OpenFile("CONIN$", os.O_RDWR, 0)
	if err != nil {
		return nil, nil, err
	}
	out, err = os.OpenFile("CONOUT$", os.O_RDWR, 0)
	if err != nil {
		in.Close()
		return nil, nil, err
	}
	return in, out, nil
}
