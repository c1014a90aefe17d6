#!/usr/bin/env bash
# scripts/corpus.sh OUTDIR — build the photo corpus that the benchmarks and the
# reference tests read (IMAGEOPTO_CORPUS=OUTDIR). About 40 MB; a minute or two.
#
# Every photograph comes from a Debian package: the packages are fetched with
# `apt-get download` and unpacked with `dpkg -x` into a scratch folder, so
# nothing is installed on the system. Variants that no package ships (colour
# profiles, EXIF orientations, alpha, palette, animation, WebP) are made from
# those photos with ImageMagick and exiftool. BENCHMARKS.md lists the files.
#
# Needs apt-get (with package lists: run `apt-get update` once), dpkg-deb,
# ImageMagick and exiftool:
#   apt-get install imagemagick libimage-exiftool-perl
set -euo pipefail

out=${1:?usage: scripts/corpus.sh OUTDIR}
packages=(lomiri-wallpapers-20.04 plasma-workspace-wallpapers mate-backgrounds colord-data)

die() { echo "corpus.sh: $*" >&2; exit 1; }

# ImageMagick: Debian's own binary when it is there (the name `convert` may
# be shadowed by a wrapper earlier in PATH), else whatever PATH offers.
im=""
for c in convert-im6.q16 convert-im7.q16 magick convert; do
  if command -v "$c" >/dev/null; then im=$(command -v "$c"); break; fi
done
[ -n "$im" ] || die "ImageMagick is missing (apt-get install imagemagick)"
for tool in apt-get dpkg-deb exiftool; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install libimage-exiftool-perl for exiftool)"
done

mkdir -p "$out"
out=$(cd "$out" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
chmod 755 "$scratch" # apt-get download drops privileges to _apt, which must write here

echo "== fetching ${packages[*]}"
cd "$scratch"
if ! apt-get download "${packages[@]}" >/dev/null 2>&1; then
  # No package lists yet on a fresh machine: read them once (root only) and retry.
  [ "$(id -u)" = 0 ] || die "apt-get download failed; run apt-get update first"
  apt-get update -qq
  apt-get download "${packages[@]}" >/dev/null
fi
for deb in ./*.deb; do
  printf '   %s %s\n' "$(dpkg-deb -f "$deb" Package)" "$(dpkg-deb -f "$deb" Version)"
  dpkg-deb -x "$deb" root
done

bg=root/usr/share/backgrounds
wp=root/usr/share/wallpapers
profile() { # NAME.icc → its path inside the unpacked colord-data
  local p
  p=$(find root -name "$1" -print -quit)
  [ -n "$p" ] || die "colord-data has no $1"
  echo "$p"
}
take() { # SOURCE NAME: copy a photo as it is shipped
  [ -f "$1" ] || die "a package no longer ships $1"
  cp "$1" "$out/$2"
}

echo "== photographs as shipped"
take "$bg/Kleiber_by_Lukas_Baubkus.jpg"               kleiber.jpg       # 6028×3391, baseline 4:2:2
take "$wp/Volna/contents/images/5120x2880.jpg"        volna.jpg         # 5120×2880, progressive 4:4:4
take "$wp/ColorfulCups/contents/images/2560x1600.jpg" colorfulcups.jpg  # progressive, camera EXIF, sRGB profile
take "$wp/Path/contents/images/2560x1600.jpg"         path.jpg          # forest, much fine detail
take "$wp/EveningGlow/contents/images/2560x1600.jpg"  eveningglow.jpg   # sunset gradients, 4:2:0
take "$bg/mate/nature/LadyBird.jpg"                   ladybird.jpg      # macro photograph
take "$bg/mate/abstract/Gulp.png"                     gulp.png          # RGBA with soft alpha

echo "== colour-managed variants"
srgb=$(profile sRGB.icc)
# Convert the pixels into another colour space and embed its profile: a
# decoder that ignores the profile shows visibly wrong colours.
into() { # SOURCE PROFILE.icc NAME [extra ImageMagick options]
  local src=$1 icc=$2 name=$3
  shift 3
  "$im" "$out/$src" -profile "$srgb" -profile "$(profile "$icc")" "$@" "$out/$name"
}
into eveningglow.jpg ProPhotoRGB.icc        eveningglow-prophoto.jpg -quality 92
into eveningglow.jpg AdobeRGB1998.icc       eveningglow-adobergb.jpg -quality 92
into ladybird.jpg    SwappedRedAndGreen.icc ladybird-swapped-rg.jpg  -quality 92
into gulp.png        WideGamutRGB.icc       gulp-widegamut.png

echo "== EXIF orientations 1-8"
# Store the photo turned the opposite way of what orientation N undoes, then
# set the tag: a correct decoder shows all eight upright and alike.
undo=("" "" "-flop" "-rotate 180" "-flip" "-transpose" "-rotate 270" "-transverse" "-rotate 90")
for n in 1 2 3 4 5 6 7 8; do
  # shellcheck disable=SC2086 # the options are meant to split into words
  "$im" "$out/ladybird.jpg" -resize 1200x ${undo[$n]} -quality 90 "$out/ladybird-exif$n.jpg"
  exiftool -q -overwrite_original -n "-Orientation=$n" "$out/ladybird-exif$n.jpg"
done

echo "== alpha, palette, animation, WebP"
# A feathered ellipse as the alpha channel of the ladybird.
"$im" "$out/ladybird.jpg" \
  \( -size 2560x1600 xc:black -fill white -draw "ellipse 1280,800 1100,680 0,360" -blur 0x60 \) \
  -alpha off -compose CopyOpacity -composite -strip "PNG32:$out/ladybird-alpha.png"
# 256 colours.
"$im" "$out/colorfulcups.jpg" -strip -colors 256 "PNG8:$out/cups-palette.png"
# Five frames of the forest sliding sideways, looping.
"$im" "$out/path.jpg" -resize 640x400 -strip "$scratch/frame.png"
frames=()
for dx in 0 40 80 120 160; do
  "$im" "$scratch/frame.png" -roll "+$dx+0" "$scratch/frame$dx.png"
  frames+=("$scratch/frame$dx.png")
done
"$im" -delay 8 -loop 0 "${frames[@]}" -layers Optimize "$out/path-anim.gif"
# Lossy WebP (skipped when this ImageMagick has no WebP delegate).
"$im" "$out/volna.jpg" -quality 80 -define webp:method=4 "$out/volna.webp" 2>/dev/null ||
  echo "   (no WebP support in ImageMagick: volna.webp skipped)"

chmod 644 "$out"/*
echo "== corpus in $out"
ls -l "$out" | tail -n +2 | awk '{printf "   %-28s %10d bytes\n", $9, $5}'
