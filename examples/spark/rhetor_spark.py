"""Analyse a JSON Lines dataset on a Spark cluster by piping each partition through `rhetor batch -`.

Each input line is a record {"id", "text", optional "url", "outlet", "title", "published"}; each
output line is what `rhetor batch` writes for it (the analysis JSON with `id`, or an error line), in
input order within each partition. rhetor is a Unix filter, so nothing but its binary is needed on
the executors: it is shipped with the job (SparkContext.addFile, like spark-submit --files).

    spark-submit examples/spark/rhetor_spark.py --rhetor target/release/rhetor \
        --input articles.jsonl --output analyses --format jsonl --model fast --partitions 64

See README.md ("rhetor batch on Apache Spark") for sizing partitions.
"""

import argparse
import os
import subprocess
import threading

from pyspark import SparkFiles
from pyspark.sql import SparkSession


def pipe_through_rhetor(binary_name, model, jobs):
    """A mapPartitions function: the partition's lines into `rhetor batch -`, its output lines out."""

    def run(lines):
        binary = SparkFiles.get(binary_name)
        if not os.access(binary, os.X_OK):
            os.chmod(binary, 0o755)
        cmd = [binary, "batch", "-", "--model", model]
        if jobs:
            cmd += ["--jobs", str(jobs)]
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

        # Feed stdin from a thread while stdout is read here, so neither pipe fills up and blocks.
        def feed():
            try:
                for line in lines:
                    proc.stdin.write(line.encode("utf-8") + b"\n")
            finally:
                proc.stdin.close()

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        for out in proc.stdout:
            yield out.decode("utf-8").rstrip("\n")
        feeder.join()
        err = proc.stderr.read().decode("utf-8", "replace")
        # Exit code 1 means some records failed: their error lines are in the output.
        if proc.wait() not in (0, 1):
            raise RuntimeError(f"rhetor batch failed: {err.strip()}")

    return run


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rhetor", required=True, help="the rhetor binary (shipped to the executors)")
    ap.add_argument("--input", required=True, help="JSON Lines file or folder (any Spark path)")
    ap.add_argument("--output", required=True, help="output folder")
    ap.add_argument("--format", choices=["jsonl", "parquet"], default="jsonl")
    ap.add_argument("--model", default="fast", help="fast, accurate or a model file")
    ap.add_argument("--partitions", type=int, default=0, help="minimum input partitions")
    ap.add_argument("--jobs", type=int, default=0, help="threads per rhetor process (default: all cores)")
    args = ap.parse_args()

    spark = SparkSession.builder.appName("rhetor-batch").getOrCreate()
    sc = spark.sparkContext
    sc.addFile(os.path.abspath(args.rhetor))
    lines = sc.textFile(args.input, minPartitions=args.partitions or None)
    out = lines.mapPartitions(
        pipe_through_rhetor(os.path.basename(args.rhetor), args.model, args.jobs)
    )
    if args.format == "jsonl":
        out.saveAsTextFile(args.output)
    else:
        spark.read.json(out).write.parquet(args.output)
    spark.stop()


if __name__ == "__main__":
    main()
