// Placeholder so the package builds while cartstore-bench is written; delete when the real entry point lands.
print("cartstore-bench: not built yet")
