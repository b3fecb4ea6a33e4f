"""One module per submodel of docs/ODD.md §7, each with its equation and its compiled kernel."""
