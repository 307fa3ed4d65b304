"""Simulator results through xAPI 1.0.3: a learning record store for Kuangjiang's own purposes."""
