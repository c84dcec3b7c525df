"""Running the App: settings (``SSOT_*``), structured logs, Prometheus metrics.

The bottom layer: imports nothing else of ``bot``; everything may import it.
"""
