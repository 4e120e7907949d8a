// Package hook registers the "sluicecapture" Beam runner. Only the overlay file sluicegen
// adds to a pipeline's main package imports it (see package capture): a program built that
// way and run with --runner=sluicecapture writes its pipeline to the file named by
// $SLUICE_CAPTURE_OUT and exits, without executing anything.
//
// It is a package of its own so that the only thing the overlay adds to a user's program
// is one blank import, and so that sluicegen itself never registers the runner.
package hook
