#!/usr/bin/env python3
"""Identical "guest writes" for a raw image and a running VM disk, for bench/run vm-backup.

  vm-writes.py mutate MKIMAGE RAW PERCENT SEED CLUSTER OUTDIR
      Runs `mkimage.py mutate RAW PERCENT SEED --cluster CLUSTER` (MKIMAGE is the path of
      mkimage.py) on the raw image and records what it writes: adjacent 64 KiB blocks are
      merged into ranges, each range's bytes go to OUTDIR/wNNNNN.bin and the list to
      OUTDIR/ranges.tsv (offset, length, file). CLUSTER 1 = scattered 64 KiB blocks (mkimage's
      default); CLUSTER 64 = runs of 64 consecutive blocks (4 MiB). Deterministic: the same
      arguments on the same image write the same bytes at the same offsets.

  vm-writes.py apply OUTDIR URI
      Writes the recorded ranges into an NBD export (a VM's live disk) with one qemu-io
      process: `qemu-io -f raw -c "write -s FILE OFF LEN" ... URI`.

Stdlib only.
"""
import importlib.util
import os
import subprocess
import sys


def load_mkimage(path):
    spec = importlib.util.spec_from_file_location('mkimage', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def cmd_mutate(mkimage, raw, percent, seed, cluster, outdir):
    mk = load_mkimage(mkimage)
    writes = []
    real_pwrite = os.pwrite

    def recording_pwrite(fd, data, offset):
        writes.append((offset, bytes(data)))
        return real_pwrite(fd, data, offset)

    class Args:
        pass
    a = Args()
    a.img, a.percent, a.seed, a.cluster, a.hole_frac = raw, float(percent), seed, int(cluster), 0.1
    os.pwrite = recording_pwrite
    try:
        stdout = sys.stdout
        sys.stdout = sys.stderr  # mkimage's summary line goes to stderr
        try:
            mk.cmd_mutate(a)
        finally:
            sys.stdout = stdout
    finally:
        os.pwrite = real_pwrite
    writes.sort()
    ranges = []  # [offset, bytearray]
    for off, data in writes:
        if ranges and ranges[-1][0] + len(ranges[-1][1]) == off:
            ranges[-1][1] += data
        else:
            ranges.append([off, bytearray(data)])
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, 'ranges.tsv'), 'w') as t:
        for i, (off, data) in enumerate(ranges):
            name = os.path.join(outdir, 'w%05d.bin' % i)
            with open(name, 'wb') as f:
                f.write(data)
            t.write('%d\t%d\t%s\n' % (off, len(data), name))
    total = sum(len(d) for _, d in ranges)
    print('vm-writes: %d writes of 64 KiB in %d ranges, %.1f MiB' % (len(writes), len(ranges), total / 2**20),
          file=sys.stderr)


def cmd_apply(outdir, uri):
    args = ['qemu-io', '-f', 'raw']
    with open(os.path.join(outdir, 'ranges.tsv')) as t:
        for line in t:
            off, length, name = line.rstrip('\n').split('\t')
            args += ['-c', 'write -q -s %s %s %s' % (name, off, length)]
    args.append(uri)
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def main():
    if len(sys.argv) == 8 and sys.argv[1] == 'mutate':
        cmd_mutate(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == 'apply':
        cmd_apply(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
