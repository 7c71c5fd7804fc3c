//go:build linux

// Command floor measures, on one thread, the CPU time of the work that
// dossier cannot skip for a corpus: reading each file, its SHA-256 (the
// manifest), zstd at dossier's level in dossier's 2 MiB frames, the age
// payload cipher (ChaCha20-Poly1305 in 64 KiB chunks) over the compressed
// bytes, and BLAKE2b-512 over them (the minisign seal's prehash); and, for
// the reading side, decompressing the frames. scripts/bench.sh prints the
// sums, halved for two cores, next to the stock pipelines' times: the
// fastest pack or verify that dossier's format allows on this machine.
//
//	go run ./scripts/floor -dir CORPUS [-bundle FILE]
//
// It prints one line: "read sha256 compress decompress chacha blake2b
// readbundle compressed_bytes", CPU seconds then a byte count; readbundle
// is the time to read FILE (the bundle made of CORPUS), 0 without it.
// Linux only (it reads the thread's CPU clock).
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/chacha20poly1305"
)

const (
	frameSize = 2 << 20  // zframe.DefaultFrameSize
	chunkSize = 64 << 10 // age's STREAM chunk
)

// threadCPU is the calling thread's CPU time (user + system).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type stages struct {
	read, sha, compress, decompress, chacha, blake, readBundle time.Duration
	compressed                                                 int64
}

func main() {
	dir := flag.String("dir", "", "the corpus folder")
	bundle := flag.String("bundle", "", "a bundle `FILE` to time reading")
	flag.Parse()
	if *dir == "" {
		log.Fatal("usage: floor -dir CORPUS")
	}
	runtime.LockOSThread()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(true), zstd.WithSingleSegment(true), zstd.WithWindowSize(frameSize))
	if err != nil {
		log.Fatal(err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		log.Fatal(err)
	}
	aead, err := chacha20poly1305.New(make([]byte, chacha20poly1305.KeySize))
	if err != nil {
		log.Fatal(err)
	}
	seal, _ := blake2b.New512(nil)
	var s stages
	frame := make([]byte, 0, frameSize)
	var comp, plain, sealed []byte
	nonce := make([]byte, chacha20poly1305.NonceSize)
	timed := func(d *time.Duration, f func()) {
		t := threadCPU()
		f()
		*d += threadCPU() - t
	}
	flush := func() {
		if len(frame) == 0 {
			return
		}
		timed(&s.compress, func() { comp = enc.EncodeAll(frame, comp[:0]) })
		timed(&s.decompress, func() {
			if plain, err = dec.DecodeAll(comp, plain[:0]); err != nil {
				log.Fatal(err)
			}
		})
		timed(&s.chacha, func() {
			for rest := comp; len(rest) > 0; {
				n := min(chunkSize, len(rest))
				sealed = aead.Seal(sealed[:0], nonce, rest[:n], nil)
				rest = rest[n:]
			}
		})
		timed(&s.blake, func() { seal.Write(comp) })
		s.compressed += int64(len(comp))
		frame = frame[:0]
	}
	buf := make([]byte, 256<<10)
	h := sha256.New()
	err = filepath.WalkDir(*dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		var f *os.File
		timed(&s.read, func() { f, err = os.Open(path) })
		if err != nil {
			return err
		}
		defer f.Close()
		h.Reset()
		for {
			var n int
			var rerr error
			timed(&s.read, func() { n, rerr = f.Read(buf) })
			timed(&s.sha, func() { h.Write(buf[:n]) })
			for p := buf[:n]; len(p) > 0; {
				k := min(len(p), frameSize-len(frame))
				frame = append(frame, p[:k]...)
				p = p[k:]
				if len(frame) == frameSize {
					flush()
				}
			}
			if rerr != nil {
				break
			}
		}
		h.Sum(nil)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	flush()
	if *bundle != "" {
		f, err := os.Open(*bundle)
		if err != nil {
			log.Fatal(err)
		}
		timed(&s.readBundle, func() {
			for {
				if _, err := f.Read(buf); err != nil {
					break
				}
			}
		})
		f.Close()
	}
	sec := func(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }
	fmt.Println(sec(s.read), sec(s.sha), sec(s.compress), sec(s.decompress), sec(s.chacha), sec(s.blake), sec(s.readBundle), s.compressed)
}
