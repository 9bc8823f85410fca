"""The docs kept honest: generated blocks, names of code, links, and the worked examples."""
