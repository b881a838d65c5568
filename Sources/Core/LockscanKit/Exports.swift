// Everything that reads user input lives in LockscanInput; the commands, the
// timeline and plugins see its types (InputSpec, Diagnostic, LineReader)
// through LockscanKit, the one library they link.
@_exported import LockscanInput
