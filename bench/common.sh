# Shared by the benchmarks that run on the real-music tracks: sourced, not
# run. Expects to be in the repository's root.

MUSIC=target/real-music

# real_music: the eleven real-music tracks as 48 kHz 24-bit and 44.1 kHz
# 16-bit WAVs in $MUSIC (shared/testdata/real-music.sh; a copy another
# checkout already made at /work/main is reused).
real_music() {
  if [ ! -d "$MUSIC/wav48" ] && [ -d /work/main/target/real-music/wav48 ] \
     && [ "$(realpath /work/main/target)" != "$(realpath target)" ]; then
    ln -sfn /work/main/target/real-music "$MUSIC"
  fi
  # shared/ lies beside the repository.
  local script=../shared/testdata/real-music.sh
  [ -f "$script" ] || script=/work/shared/testdata/real-music.sh
  bash "$script" "$MUSIC" >/dev/null
}

# hour_album DIR SRC RATE: the WAVs of SRC (at RATE Hz) hard-linked (or
# copied across file systems) into DIR, again and again, until they last
# at least an hour. Made once: DIR/.ready marks it done.
hour_album() {
  local dir=$1 src=$2 rate=$3 total=0 copy=1 f frames
  [ -f "$dir/.ready" ] && return
  rm -rf "$dir"
  mkdir -p "$dir"
  while [ "$total" -lt 3600 ]; do
    for f in "$src"/*.wav; do
      ln "$f" "$dir/c${copy}-$(basename "$f")" 2>/dev/null || cp "$f" "$dir/c${copy}-$(basename "$f")"
      frames=$(ffprobe -v error -show_entries stream=duration_ts -of csv=p=0 "$f")
      total=$((total + frames / rate))
    done
    copy=$((copy + 1))
  done
  touch "$dir/.ready"
}

# album_secs RATE FILE...: their length in whole seconds.
album_secs() {
  local rate=$1 secs=0 f d
  shift
  for f in "$@"; do
    d=$(ffprobe -v error -show_entries stream=duration_ts -of csv=p=0 "$f")
    secs=$((secs + d / rate))
  done
  echo "$secs"
}
