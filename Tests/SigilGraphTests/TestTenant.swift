// The test tenant, the in-process Graph client and their helpers live in the SigilTestSupport
// library, shared with SigilConsoleTests; every file of this target sees them through this import.
@_exported import SigilTestSupport
