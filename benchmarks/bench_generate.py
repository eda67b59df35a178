"""How fast and how big is generating a clip? The benchmark lives in the package so that
`runway-nb bench` runs it on any install; this script is the same from a clone:

    python benchmarks/bench_generate.py                      # shipped tiny engine, 2 threads
    python benchmarks/bench_generate.py --threads 1 --runs 9 --json out.json

What it measures: runway_nb/bench.py.
"""

from runway_nb.bench import main

if __name__ == "__main__":
    main()
