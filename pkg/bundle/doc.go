// Package bundle packs, verifies, inspects and opens dossier bundles.
//
// A bundle is an age file, encrypted to post-quantum hybrid recipients,
// whose plaintext is a zstd stream of independent frames over a tar
// archive. The archive opens with a signed preamble (sender, recipients,
// the hash of the age header, case metadata and the file list with sizes)
// and closes with a signed manifest (every file's SHA-256). The format is
// specified in SPEC.md beside this file.
//
// # Writing
//
// [MakePlan] walks the input paths and assigns data categories; [Pack]
// writes a bundle to any io.Writer, [PackFile] to a file that appears
// under its final name only when complete.
//
// # Reading
//
// [Inspect] checks the signed preamble only. [Verify] checks everything
// and writes nothing. [Open] checks everything and only then publishes
// the documents as a BagIt bag; [VerifyBag] re-checks such a folder later.
// A reader proves the sender from the preamble before it decompresses a
// single payload byte, so a bundle from anyone else is refused at once,
// whatever its size.
//
// # Errors
//
// Failures that mean the bundle is not what the expected sender produced
// wrap [ErrIntegrity] (and [ErrWrongSender] or [ErrNotAddressed] where that
// is the reason); a bundle no given identity can decrypt gives
// [ErrNoIdentity]; problems with the input files wrap [ErrInput].
package bundle
