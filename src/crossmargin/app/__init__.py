"""The application shell: the sequencer service, clocks and the ports adapters implement."""
