"""Defences at the network edge: where the gateway may connect on a caller's or provider's say-so."""
