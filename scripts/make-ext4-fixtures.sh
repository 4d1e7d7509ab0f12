#!/usr/bin/env bash
# Generate the ext4 *foundation* fixtures in testdata/ext4/ (see its README.md).
#
#   sudo bash scripts/make-ext4-fixtures.sh            # all fixtures
#   sudo bash scripts/make-ext4-fixtures.sh default    # only some (names below)
#
# Every image is written by the real kernel ext4 driver: mkfs.ext4 on a small
# sparse file, loop mount, populate, sync, umount (clean journal). The ground
# truth (<name>.json) is gathered by walking the mounted filesystem before the
# unmount, then completed from the unmounted image with debugfs (inode flags,
# extent depth) and The Sleuth Kit (fsstat, fls -r -p, icat sha256).
# Re-runnable: everything is rebuilt under /tmp/fx-ext4 and overwritten in
# testdata/ext4. UUIDs, hash seeds and file contents are fixed; timestamps,
# inode generations and a few allocator choices differ from run to run.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
# shellcheck source=lib-fixtures.sh
. "$HERE/lib-fixtures.sh"

fx_require mkfs.ext4 debugfs dumpe2fs e2fsck sfdisk setfattr setfacl mknod fallocate \
    fls icat fsstat gzip python3 losetup mkfs.vfat
fx_init /tmp/fx-ext4 "$REPO/testdata/ext4"
W=$FX_WORK
M=$W/mnt

ALL=(default blk1k ext3 inline htree overlay gpt mbr)
if [ $# -gt 0 ]; then SEL=("$@"); else SEL=("${ALL[@]}"); fi

# Fixed identities (deterministic superblocks / checksum seeds / dx hashes).
HASH_SEED=6f7c1f5e-2a4b-4c3d-9e8f-0a1b2c3d4e5f
# mke2fs.conf here maps filesystems < 512 MiB to the "small" type (1 KiB blocks),
# so "defaults" below means the usual big-disk layout forced with -b 4096:
# 4 KiB blocks, 256-byte inodes, 64bit, metadata_csum, flex_bg, extents.
mkfs_args() { # mkfs_args UUID LABEL [more...]
    local u=$1 l=$2
    shift 2
    printf '%s\n' -U "$u" -L "$l" -E "hash_seed=$HASH_SEED" "$@"
}

# Value helpers -------------------------------------------------------------
hexval() { # hexval SEED LEN -> 0x<hex> of deterministic text (for setfattr -v)
    python3 -c 'import sys,hashlib
seed,n=sys.argv[1],int(sys.argv[2]); out=b""; i=0
while len(out)<n:
    out+=hashlib.sha256(f"{seed}{i}".encode()).hexdigest().encode(); i+=1
print("0x"+out[:n].hex())' "$1" "$2"
}

check_depth() { # check_depth NAME PATH MIN : assert extent_depth >= MIN in manifest
    python3 - "$FX_OUT/$1.json" "$2" "$3" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
for fs in m['filesystems']:
    for e in fs['files']:
        if e['path'] == sys.argv[2]:
            d = e.get('extent_depth')
            print(f"[fx] {m['name']}:{sys.argv[2]} extent_depth={d}", file=sys.stderr)
            if d is None or d < int(sys.argv[3]):
                sys.exit(f"extent depth {d} < {sys.argv[3]}")
            sys.exit(0)
sys.exit(f"{sys.argv[2]} not in manifest")
EOF
}

# ===========================================================================
# 1. default
# ===========================================================================
populate_default() {
    local r=$1
    mkdir -p "$r/a/b/c/d" "$r/files" "$r/links" "$r/special" "$r/names" "$r/xattrs" "$r/owners"
    # sizes
    : > "$r/files/empty"
    printf 'x' > "$r/files/one"
    fx_gen "$r/files/size4095" 4095 size4095
    fx_gen "$r/files/size4096" 4096 size4096
    fx_gen "$r/files/size4097" 4097 size4097
    fx_gen "$r/files/random1m" 1048576 random1m random
    fx_gen "$r/files/text100k" 102400 text100k
    fx_gen "$r/a/top.txt" 300 top
    fx_gen "$r/a/b/mid.txt" 5000 mid
    fx_gen "$r/a/b/c/d/deep.txt" 42 deep
    # sparse: 1 MiB, data at 256 KiB (8 KiB) and 640 KiB (4 KiB); holes at start,
    # middle and end
    truncate -s 1M "$r/files/sparse"
    fx_pwrite "$r/files/sparse" 262144 8192 sparse-a
    fx_pwrite "$r/files/sparse" 655360 4096 sparse-b
    # unwritten extent: 64 KiB preallocated, 10 bytes written at 30000
    fallocate -l 64K "$r/files/unwritten"
    printf '0123456789' | dd of="$r/files/unwritten" bs=1 seek=30000 conv=notrunc status=none
    # fragmented: 1500 single-block extents (> 4*340) -> extent tree depth 2
    fx_frag "$r/files/frag" 4096 1500 frag4k
    # hard links: one inode, three names in three directories
    fx_gen "$r/links/hardlink" 777 hardlink
    ln "$r/links/hardlink" "$r/a/hardlink2"
    ln "$r/links/hardlink" "$r/a/b/c/hardlink3"
    # symlinks
    ln -s ../files/one "$r/links/fast"
    local longname=this-is-a-deliberately-long-file-name-for-the-slow-symlink.txt
    fx_gen "$r/a/b/c/d/$longname" 64 longname
    ln -s "../a/b/c/d/$longname" "$r/links/slow"
    ln -s /nonexistent/dangling/target "$r/links/dangling"
    ln -s ../a/b "$r/links/dirlink"
    # special files
    mkfifo "$r/special/fifo"
    mknod "$r/special/chr" c 1 3
    mknod "$r/special/blk" b 7 0
    fx_mksock "$r/special/sock"
    # awkward names
    printf 'ff fe\n' > "$r/names/"$'\xff\xfe'
    printf 'latin-1\n' > "$r/names/caf"$'\xe9'
    printf 'space\n' > "$r/names/with space"
    printf 'newline\n' > "$r/names/new"$'\n'"line"
    printf 'utf8\n' > "$r/names/café-ü-日本"
    printf 'long\n' > "$r/names/$(printf 'L%.0s' {1..255})"
    mkdir "$r/names/dir"$'\xe9'
    printf 'in latin-1 dir\n' > "$r/names/dir"$'\xe9'"/inner"
    # xattrs
    fx_gen "$r/xattrs/small" 10 xsmall
    setfattr -n user.color -v blue "$r/xattrs/small"
    setfattr -n user.empty "$r/xattrs/small"
    local big f
    big=$(hexval bigxattr 3000)
    for f in shared1 shared2; do
        fx_gen "$r/xattrs/$f" 20 "$f"
        setfattr -n user.note -v shared "$r/xattrs/$f"
        setfattr -n user.big -v "$big" "$r/xattrs/$f"
    done
    mkdir "$r/xattrs/opaque-dir"
    setfattr -n trusted.overlay.opaque -v y "$r/xattrs/opaque-dir"
    fx_gen "$r/xattrs/origin" 30 origin
    setfattr -n trusted.overlay.origin -v 0x00fb2100019a1b2c3d4e5f60718293a4b5c6d7e8f90c0000004a6f5c21 "$r/xattrs/origin"
    fx_gen "$r/xattrs/selinux" 30 selinux
    setfattr -n security.selinux -v "$(python3 -c 'print("0x"+b"system_u:object_r:etc_t:s0\0".hex())')" "$r/xattrs/selinux"
    fx_gen "$r/xattrs/acl" 30 acl
    setfacl -m u:1000:rw-,g:100:r--,m::rw- "$r/xattrs/acl"
    mkdir "$r/xattrs/acl-default-dir"
    setfacl -d -m u:1000:rwx "$r/xattrs/acl-default-dir"
    fx_gen "$r/xattrs/acl-default-dir/inherits" 30 inherits
    # owners and modes
    fx_gen "$r/owners/user1000" 30 user1000
    chown 1000:1000 "$r/owners/user1000"
    fx_gen "$r/owners/setuid" 30 setuid
    chmod 4755 "$r/owners/setuid"
    mkdir "$r/owners/sticky"
    chmod 1777 "$r/owners/sticky"
    fx_gen "$r/owners/mode600" 30 mode600
    chmod 600 "$r/owners/mode600"
    chown 65534:65534 "$r/owners/mode600"
}

make_default() {
    local n=default img=$W/default.img
    mapfile -t args < <(mkfs_args 0d5a6f1e-0001-4e5f-8a6b-000000000001 fxdefault -b 4096)
    fx_mkfs "$img" 32M "${args[@]}"
    fx_mount "$img" "$M"
    populate_default "$M"
    sync
    fx_walk "$M" "$W/$n.walk.json"
    fx_umount "$M"
    # the two files with identical xattrs must share one external xattr block
    local a1 a2
    a1=$(debugfs -R "stat /xattrs/shared1" "$img" 2>/dev/null | sed -n 's/.*File ACL: \([0-9]*\).*/\1/p')
    a2=$(debugfs -R "stat /xattrs/shared2" "$img" 2>/dev/null | sed -n 's/.*File ACL: \([0-9]*\).*/\1/p')
    [ "$a1" != 0 ] && [ "$a1" = "$a2" ] || fx_die "xattr block not shared: $a1 vs $a2"
    fx_log "default: shared xattr block $a1"
    fx_extents "$img" 0 "$FX_OUT/$n.extents.txt" /files/frag /files/sparse /files/unwritten \
        /files/random1m /xattrs/shared1
    fx_probe "$img" 0 null "$W/$n.walk.json" "$W/$n.fs.json" "$n" "$FX_MKFS_CMD"
    printf '{"shared_xattr_block": %s, "shared_xattr_files": ["/xattrs/shared1", "/xattrs/shared2"]}\n' \
        "$a1" > "$W/$n.extra.json"
    fx_manifest "$n" "$img" "mkfs defaults forced to 4 KiB blocks (64bit, metadata_csum, flex_bg, extents, 256-byte inodes), 32 MiB, one block group. Nested dirs (/a/b/c/d); regular files of 0, 1, 4095, 4096, 4097 bytes, 100 KiB text, 1 MiB pseudo-random; /files/sparse (1 MiB, data only at 256K+8K and 640K+4K: holes at start, middle, end); /files/unwritten (fallocate 64K, 10 bytes written at offset 30000: unwritten/written/unwritten extents); /files/frag (1500 one-block extents every other block, extent depth 2, see default.extents.txt); hard link with 3 names (/links/hardlink, /a/hardlink2, /a/b/c/hardlink3); fast, slow (>60 byte target), dangling and directory symlinks; fifo, char 1:3, block 7:0, unix socket; non-UTF-8 names (\\xff\\xfe, caf\\xe9, dir\\xe9/inner), space, newline, UTF-8 and 255-byte names; xattrs: user.* (empty value too), user.big 3000 bytes in an external block shared by /xattrs/shared1 and /xattrs/shared2 (refcount 2), trusted.overlay.opaque, trusted.overlay.origin, security.selinux, POSIX access ACL and a default ACL dir; uid/gid 1000 and 65534, setuid, sticky dir. Paths with invalid UTF-8 are U+FFFD-lossy in 'path' with exact bytes in 'path_hex'." \
        "$W/$n.extra.json" "$W/$n.fs.json"
    fx_gzip "$img" "$n"
    check_depth "$n" /files/frag 2
}

# ===========================================================================
# 2. blk1k
# ===========================================================================
make_blk1k() {
    local n=blk1k img=$W/blk1k.img r=$M
    mapfile -t args < <(mkfs_args 0d5a6f1e-0002-4e5f-8a6b-000000000002 fxblk1k -b 1024)
    fx_mkfs "$img" 16M "${args[@]}"
    fx_mount "$img" "$M"
    mkdir -p "$r/a/b/c" "$r/files" "$r/links"
    : > "$r/files/empty"
    printf 'x' > "$r/files/one"
    fx_gen "$r/files/size1023" 1023 s1023
    fx_gen "$r/files/size1024" 1024 s1024
    fx_gen "$r/files/size1025" 1025 s1025
    fx_gen "$r/files/size5000" 5000 s5000
    fx_gen "$r/files/text300k" 307200 text300k
    fx_gen "$r/a/b/c/deep.txt" 42 deep1k
    truncate -s 256K "$r/files/sparse"
    fx_pwrite "$r/files/sparse" 65536 3072 sp1k-a
    fx_pwrite "$r/files/sparse" 131072 1024 sp1k-b
    # 400 one-block extents (> 4*84) -> depth 2 with 1 KiB blocks
    fx_frag "$r/files/frag" 1024 400 frag1k
    fx_gen "$r/links/hardlink" 100 hl1k
    ln "$r/links/hardlink" "$r/a/b/hardlink2"
    ln -s ../files/one "$r/links/fast"
    ln -s "../a/b/c/$(printf './%.0s' {1..30})deep.txt" "$r/links/slow"
    sync
    fx_walk "$M" "$W/$n.walk.json"
    fx_umount "$M"
    fx_extents "$img" 0 "$FX_OUT/$n.extents.txt" /files/frag /files/sparse /files/text300k
    fx_probe "$img" 0 null "$W/$n.walk.json" "$W/$n.fs.json" "$n" "$FX_MKFS_CMD"
    fx_manifest "$n" "$img" "1 KiB blocks (mkfs.ext4 -b 1024, otherwise defaults: 64bit, metadata_csum, flex_bg, extents, 256-byte inodes), 16 MiB, two block groups. Nested dirs /a/b/c; files of 0, 1, 1023, 1024, 1025, 5000 bytes and 300 KiB; /files/sparse (256 KiB, data at 64K+3K and 128K+1K); /files/frag (400 one-block extents every other block: extent depth 2, see blk1k.extents.txt); hard link (2 names); fast and slow (../a/b/c/././.../deep.txt, 77 bytes) symlinks." \
        "" "$W/$n.fs.json"
    fx_gzip "$img" "$n"
    check_depth "$n" /files/frag 2
}

# ===========================================================================
# 3. ext3 (block maps, indirect blocks), written by the ext4 driver
# ===========================================================================
make_ext3() {
    local n=ext3 img=$W/ext3.img r=$M
    mapfile -t args < <(mkfs_args 0d5a6f1e-0003-4e5f-8a6b-000000000003 fxext3 -O ^extent,^64bit -b 1024)
    fx_mkfs "$img" 16M "${args[@]}"
    fx_mount "$img" "$M"
    mkdir -p "$r/dir/sub" "$r/files"
    printf 'hello ext3\n' > "$r/files/small"
    fx_gen "$r/files/twelve" 12288 twelve          # exactly the 12 direct blocks
    fx_gen "$r/files/thirteen" 13312 thirteen      # first single-indirect block
    # 1.5 MiB: direct (12) + single indirect (256) + double indirect (1268 blocks)
    fx_gen "$r/files/big1536k" 1572864 big1536k
    # sparse, 4 data blocks: direct block 0, in the single (block 100), double
    # (block 10000) and triple (block 66560 = 65 MiB > 12+256+65536) ranges
    fx_pwrite "$r/files/sparse-tind" 0 1024 tind-0
    fx_pwrite "$r/files/sparse-tind" $((100 * 1024)) 1024 tind-100
    fx_pwrite "$r/files/sparse-tind" $((10000 * 1024)) 1024 tind-10000
    fx_pwrite "$r/files/sparse-tind" $((66560 * 1024)) 1024 tind-66560
    fx_gen "$r/dir/sub/nested.txt" 200 nested3
    ln -s ../files/small "$r/dir/link"
    ln -s "$(printf 'x%.0s' {1..70})/slow-target" "$r/dir/slowlink"
    sync
    fx_walk "$M" "$W/$n.walk.json"
    fx_umount "$M"
    : > "$FX_OUT/$n.blocks.txt"
    local p
    for p in /files/thirteen /files/big1536k /files/sparse-tind; do
        { printf '### %s\n' "$p"; debugfs -R "stat $p" "$img" 2>/dev/null | sed '/^Inode checksum/d;/time:/d'; printf '\n'; } >> "$FX_OUT/$n.blocks.txt"
    done
    grep -q 'TIND' "$FX_OUT/$n.blocks.txt" || fx_die "ext3: no triple indirect block"
    fx_probe "$img" 0 null "$W/$n.walk.json" "$W/$n.fs.json" "$n" "$FX_MKFS_CMD"
    fx_manifest "$n" "$img" "No extents, no 64bit (mkfs.ext4 -O ^extent,^64bit -b 1024; still metadata_csum, flex_bg, journal), 16 MiB, mounted and written by the ext4 driver: files use classic block maps. /files/twelve uses exactly the 12 direct blocks, /files/thirteen one single-indirect block, /files/big1536k (1.5 MiB) direct + IND + DIND, /files/sparse-tind (65 MiB + 1 KiB apparent, 4 data blocks at file blocks 0, 100, 10000, 66560) uses IND, DIND and TIND. debugfs stat of these is in ext3.blocks.txt. Plus nested dirs, a fast and a slow symlink. No file has extent_depth." \
        "" "$W/$n.fs.json"
    fx_gzip "$img" "$n"
}

# ===========================================================================
# 4. inline
# ===========================================================================
make_inline() {
    local n=inline img=$W/inline.img r=$M i p
    mapfile -t args < <(mkfs_args 0d5a6f1e-0004-4e5f-8a6b-000000000004 fxinline -b 4096 -O inline_data)
    fx_mkfs "$img" 16M "${args[@]}"
    fx_mount "$img" "$M"
    mkdir -p "$r/files"
    : > "$r/files/empty"
    for i in 1 20 59 60 61 100 128 129 200; do
        fx_gen "$r/files/size$i" "$i" "inline$i"
    done
    printf 'short file in an inline dir\n' > "$r/files/tiny.txt"
    mkdir "$r/inline-dir"
    printf 'a\n' > "$r/inline-dir/a"
    printf 'b\n' > "$r/inline-dir/b"
    mkdir "$r/inline-dir/c"
    mkdir "$r/empty-dir"
    mkdir "$r/block-dir"
    for i in $(seq -w 1 40); do
        printf 'entry %s\n' "$i" > "$r/block-dir/entry-with-a-longish-name-$i"
    done
    ln -s ../files/size20 "$r/files/fastlink"
    sync
    fx_walk "$M" "$W/$n.walk.json"
    fx_umount "$M"
    # record the inode flags of the directories too (walk/probe only cover files)
    : > "$FX_OUT/$n.dirs.txt"
    for p in / /inline-dir /empty-dir /block-dir /files; do
        { printf '### %s\n' "$p"; debugfs -R "stat $p" "$img" 2>/dev/null | sed -n '1,2p;/Size of inline data/p;/EXTENTS/,+1p'; printf '\n'; } >> "$FX_OUT/$n.dirs.txt"
    done
    fx_probe "$img" 0 null "$W/$n.walk.json" "$W/$n.fs.json" "$n" "$FX_MKFS_CMD"
    fx_manifest "$n" "$img" "inline_data (mkfs.ext4 -b 4096 -O inline_data), 16 MiB, 256-byte inodes: inline capacity is 60 bytes in i_block plus 68 bytes in the in-inode system.data xattr, so files of 1..128 bytes are inline (flags & 0x10000000; 61..128 spill into system.data) and /files/size129 and /files/size200 are extent files (just too big). /files/empty is a 0-byte extent file (never written). /inline-dir (a, b, c) and /empty-dir are inline directories; /block-dir (40 entries) was converted to a block directory. Directory flags in inline.dirs.txt. 'flags' in each regular file entry is the raw i_flags." \
        "" "$W/$n.fs.json"
    fx_gzip "$img" "$n"
}

# ===========================================================================
# 5. htree
# ===========================================================================
make_htree() {
    local n=htree img=$W/htree.img
    mapfile -t args < <(mkfs_args 0d5a6f1e-0005-4e5f-8a6b-000000000005 fxhtree -b 4096)
    fx_mkfs "$img" 40M "${args[@]}"
    fx_mount "$img" "$M"
    # /big: 6000 files with 255-byte names (15 entries per 4 KiB block), so the
    # dx root (507 slots) overflows and the tree gets an index level
    # (indirect_levels 1). /small: 300 entries, a single-level htree.
    python3 - "$M" <<'EOF'
import os, sys
r = sys.argv[1]
os.mkdir(f'{r}/big'); os.mkdir(f'{r}/small')
pad = 'abcdefghijklmnopqrstuvwxyz0123456789' * 8
for i in range(6000):
    with open(f'{r}/big/' + (f'f{i:05d}-' + pad)[:255], 'w') as f:
        f.write(f'big {i}\n')
for i in range(300):
    with open(f'{r}/small/small-entry-{i:04d}-0123456789abcdef', 'w') as f:
        f.write(f'small {i}\n')
EOF
    sync
    fx_walk "$M" "$W/$n.walk.json"
    fx_umount "$M"
    local lv_big lv_small
    debugfs -R "htree /big" "$img" 2>/dev/null > "$W/htree.big.txt"
    debugfs -R "htree /small" "$img" 2>/dev/null > "$W/htree.small.txt"
    lv_big=$(sed -n 's/.*Indirect levels: //p' "$W/htree.big.txt" | head -1)
    lv_small=$(sed -n 's/.*Indirect levels: //p' "$W/htree.small.txt" | head -1)
    fx_log "htree: /big indirect levels $lv_big, /small $lv_small"
    [ "$lv_big" -ge 1 ] || fx_log "WARNING: /big htree has no index level"
    # keep only the root node summary (the full dump lists every entry)
    { echo "### /big"; sed -n '1,/^Entry #0/p' "$W/htree.big.txt"
      echo "### /small"; sed -n '1,/^Entry #0/p' "$W/htree.small.txt"; } > "$FX_OUT/$n.htree.txt"
    fx_probe "$img" 0 null "$W/$n.walk.json" "$W/$n.fs.json" "$n" "$FX_MKFS_CMD"
    printf '{"htree": {"/big": {"entries": 6000, "indirect_levels": %s}, "/small": {"entries": 300, "indirect_levels": %s}}}\n' \
        "$lv_big" "$lv_small" > "$W/$n.extra.json"
    fx_manifest "$n" "$img" "Hashed directories (dir_index, half_md4, fixed hash_seed $HASH_SEED), mkfs defaults with 4 KiB blocks, 40 MiB. /big holds 6000 regular files named f00000-... (255-byte names, content 'big N\\n'); its htree has indirect_levels=$lv_big (root + index level + leaves). /small holds 300 files (htree with indirect_levels=$lv_small). Root node summaries in htree.htree.txt." \
        "$W/$n.extra.json" "$W/$n.fs.json"
    fx_gzip "$img" "$n"
}

# ===========================================================================
# 6. overlay (overlayfs upper/lower/work on one ext4)
# ===========================================================================
make_overlay() {
    local n=overlay img=$W/overlay.img r=$M
    mapfile -t args < <(mkfs_args 0d5a6f1e-0006-4e5f-8a6b-000000000006 fxoverlay -b 4096)
    fx_mkfs "$img" 32M "${args[@]}"
    fx_mount "$img" "$M"
    mkdir -p "$r/lower" "$r/upper" "$r/work" "$r/merged"
    local l=$r/lower
    mkdir -p "$l/etc" "$l/usr/bin" "$l/var/cache/app" "$l/opt/tool/lib" "$l/srv/data/sub"
    fx_gen "$l/etc/passwd" 200 passwd
    fx_gen "$l/etc/hosts" 120 hosts
    fx_gen "$l/etc/deleted.conf" 150 deleted-conf
    fx_gen "$l/usr/bin/tool" 20000 tool
    fx_gen "$l/var/cache/app/c1" 3000 c1
    fx_gen "$l/var/cache/app/c2" 3000 c2
    fx_gen "$l/opt/tool/lib/libtool.so" 9000 libtool
    fx_gen "$l/opt/tool/README" 100 readme
    fx_gen "$l/srv/data/sub/keep" 50 keep
    fx_gen "$l/srv/data/sub/gone" 50 gone
    fx_gen "$l/lowerfile" 64 lowerfile
    local opts="lowerdir=$r/lower,upperdir=$r/upper,workdir=$r/work,redirect_dir=on"
    mount -t overlay overlay -o "$opts" "$r/merged"
    local v=$r/merged
    rm "$v/etc/deleted.conf"                       # whiteout (char 0:0) in upper/etc
    rm "$v/srv/data/sub/gone"                      # whiteout deep down: parents copied up
    rm -rf "$v/var/cache/app"; mkdir "$v/var/cache/app"   # opaque dir
    printf 'new cache\n' > "$v/var/cache/app/fresh"
    printf 'appended line\n' >> "$v/etc/hosts"      # copy-up, trusted.overlay.origin
    mv "$v/opt/tool" "$v/opt/tool-renamed"          # dir rename: trusted.overlay.redirect
    mkdir -p "$v/newdir/nested"
    printf 'created in upper\n' > "$v/newdir/nested/newfile"
    printf 'top new\n' > "$v/newtop"
    chmod 600 "$v/etc/passwd"                       # metadata-only change -> copy-up
    sync
    fx_walk "$v" "$W/$n.merged.json"
    umount "$r/merged"
    sync
    fx_walk "$M" "$W/$n.walk.json"
    fx_umount "$M"
    fx_probe "$img" 0 null "$W/$n.walk.json" "$W/$n.fs.json" "$n" "$FX_MKFS_CMD"
    python3 - "$W/$n.merged.json" "$W/$n.extra.json" "$opts" "$r" <<'EOF'
import json, sys
merged = json.load(open(sys.argv[1]))
opts = sys.argv[3].replace(sys.argv[4], '')
json.dump({'overlay': {'lowerdir': '/lower', 'upperdir': '/upper', 'workdir': '/work',
                       'mergeddir': '/merged', 'mount_options': opts,
                       'merged_view_note': 'entries as seen through the overlay mount before it was unmounted (inode numbers are overlayfs ones; overlay private xattrs are hidden)',
                       'merged_view': merged}}, open(sys.argv[2], 'w'))
EOF
    fx_manifest "$n" "$img" "overlayfs layout on one ext4 (4 KiB blocks, 32 MiB): /lower, /upper, /work, /merged. Mounted overlay with lowerdir=/lower,upperdir=/upper,workdir=/work,redirect_dir=on, then through /merged: rm /etc/deleted.conf and /srv/data/sub/gone (whiteouts: char 0:0, mode 0o20000; the kernel also hard-links whiteouts into /work/work, so links may be 2), rm -rf /var/cache/app + mkdir (trusted.overlay.opaque=y) + new file, append to /etc/hosts (copy-up with trusted.overlay.origin), mv /opt/tool /opt/tool-renamed (upper dir with trusted.overlay.redirect and a whiteout at /upper/opt/tool), new /newdir/nested/newfile and /newtop, chmod 600 /etc/passwd (copy-up). Upper root has trusted.overlay.uuid/impure. 'overlay.merged_view' is the merged listing for comparison." \
        "$W/$n.extra.json" "$W/$n.fs.json"
    fx_gzip "$img" "$n"
}

# ===========================================================================
# Partitioned disks
# ===========================================================================
populate_small() { # populate_small ROOT TAG
    local r=$1 t=$2
    mkdir -p "$r/dir/sub"
    printf '%s\n' "$t" > "$r/tag.txt"
    fx_gen "$r/dir/file.txt" 5000 "$t-file"
    fx_gen "$r/dir/sub/data.bin" 70000 "$t-data"
    ln -s ../tag.txt "$r/dir/link"
    ln "$r/tag.txt" "$r/dir/sub/tag-hardlink"
}

# sfdisk --json -> extra.json {"partition_table": ..., "partitions": [...]}
partitions_json() { # partitions_json DISK OUT
    sfdisk --json "$1" | python3 -c '
import json, sys
pt = json.load(sys.stdin)["partitiontable"]
ss = pt.get("sectorsize", 512)
parts = []
for p in pt["partitions"]:
    idx = int(p["node"].rsplit("img", 1)[1])
    q = {"index": idx, "start_sector": p["start"], "sectors": p["size"], "offset": p["start"] * ss,
         "size": p["size"] * ss, "type": p["type"]}
    for k in ("uuid", "name"):
        if k in p: q[k] = p[k]
    parts.append(q)
out = {"partition_table": pt["label"], "sector_size": ss, "partitions": parts}
if "id" in pt: out["disk_id"] = pt["id"]
json.dump(out, open(sys.argv[1], "w"))
' "$2"
}

part_field() { # part_field EXTRA.json INDEX FIELD
    python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))
print(next(p[sys.argv[3]] for p in m["partitions"] if p["index"]==int(sys.argv[2])))' "$@"
}

# build an ext4 of exactly the partition's size, populate it, walk it, dd it in
ext_into_partition() { # ext_into_partition DISK EXTRA IDX UUID LABEL TAG [mkfs args]
    local disk=$1 extra=$2 idx=$3 uuid=$4 label=$5 tag=$6
    shift 6
    local off size fsimg=$W/$(basename "$disk" .img).p$idx.img
    off=$(part_field "$extra" "$idx" offset)
    size=$(part_field "$extra" "$idx" size)
    mapfile -t args < <(mkfs_args "$uuid" "$label" "$@")
    fx_mkfs "$fsimg" "$size" "${args[@]}"
    fx_mount "$fsimg" "$M"
    populate_small "$M" "$tag"
    sync
    fx_walk "$M" "$fsimg.walk.json"
    fx_umount "$M"
    dd if="$fsimg" of="$disk" bs=1M seek="$off" oflag=seek_bytes conv=notrunc,fsync status=none
    PART_MKFS=$FX_MKFS_CMD
}

make_gpt() {
    local n=gpt disk=$W/gpt.img
    rm -f "$disk"; truncate -s 48M "$disk"
    sfdisk -q "$disk" <<'EOF'
label: gpt
label-id: 5EED0000-0000-4000-8000-00000000D15C
first-lba: 2048
start=2048, size=8192, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=5EED0000-0000-4000-8000-000000000001, name="fat"
start=12288, size=81920, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=5EED0000-0000-4000-8000-000000000002, name="linux"
EOF
    partitions_json "$disk" "$W/$n.extra.json"
    # partition 1: a small FAT (not ext)
    local off1
    off1=$(part_field "$W/$n.extra.json" 1 offset)
    rm -f "$W/gpt.p1.img"; truncate -s 4M "$W/gpt.p1.img"
    mkfs.vfat -i 5EED0001 -n FXGPTFAT "$W/gpt.p1.img" >/dev/null
    dd if="$W/gpt.p1.img" of="$disk" bs=1M seek="$off1" oflag=seek_bytes conv=notrunc status=none
    ext_into_partition "$disk" "$W/$n.extra.json" 2 0d5a6f1e-0007-4e5f-8a6b-000000000007 fxgpt2 gpt-p2 -b 4096
    local off2
    off2=$(part_field "$W/$n.extra.json" 2 offset)
    fx_probe "$disk" "$off2" 2 "$W/gpt.p2.img.walk.json" "$W/$n.p2.fs.json" "$n.p2" "$PART_MKFS"
    fx_manifest "$n" "$disk" "48 MiB disk with a GPT (sfdisk 'label: gpt', fixed disk/partition GUIDs): partition 1 = 4 MiB FAT (mkfs.vfat, not ext; at 1 MiB), partition 2 = 40 MiB ext4 (4 KiB blocks) at byte offset $off2 (sector $((off2 / 512))). The ext4 was made with mkfs on a separate file, populated through a loop mount, then dd'ed into place. TSK outputs use -o $((off2 / 512)). 'partitions' lists the table." \
        "$W/$n.extra.json" "$W/$n.p2.fs.json"
    fx_gzip "$disk" "$n"
}

make_mbr() {
    local n=mbr disk=$W/mbr.img
    rm -f "$disk"; truncate -s 40M "$disk"
    # "<dev>N :" prefixes: without them lines 3 and 4 would be primaries 3 and 4
    sfdisk -q "$disk" <<EOF
label: dos
label-id: 0x5eed0d05
${disk}1 : start=2048, size=8192, type=1
${disk}2 : start=12288, type=5
${disk}5 : size=16384, type=83
${disk}6 : type=83
EOF
    partitions_json "$disk" "$W/$n.extra.json"
    local off1
    off1=$(part_field "$W/$n.extra.json" 1 offset)
    rm -f "$W/mbr.p1.img"; truncate -s 4M "$W/mbr.p1.img"
    mkfs.vfat -i 5EED0D01 -n FXMBRFAT "$W/mbr.p1.img" >/dev/null
    dd if="$W/mbr.p1.img" of="$disk" bs=1M seek="$off1" oflag=seek_bytes conv=notrunc status=none
    ext_into_partition "$disk" "$W/$n.extra.json" 5 0d5a6f1e-0008-4e5f-8a6b-000000000008 fxmbr5 mbr-p5 -b 1024
    local mk5=$PART_MKFS
    ext_into_partition "$disk" "$W/$n.extra.json" 6 0d5a6f1e-0009-4e5f-8a6b-000000000009 fxmbr6 mbr-p6 -b 4096
    local mk6=$PART_MKFS off5 off6
    off5=$(part_field "$W/$n.extra.json" 5 offset)
    off6=$(part_field "$W/$n.extra.json" 6 offset)
    fx_probe "$disk" "$off5" 5 "$W/mbr.p5.img.walk.json" "$W/$n.p5.fs.json" "$n.p5" "$mk5"
    fx_probe "$disk" "$off6" 6 "$W/mbr.p6.img.walk.json" "$W/$n.p6.fs.json" "$n.p6" "$mk6"
    fx_manifest "$n" "$disk" "40 MiB disk with an MBR (sfdisk 'label: dos', disk id 0x5eed0d05): primary partition 1 = 4 MiB FAT (type 0x01) at 1 MiB; partition 2 = extended (type 0x05) holding two logical partitions (Linux numbering 5 and 6; 'partition' uses that numbering): 5 = 8 MiB ext4 with 1 KiB blocks at byte offset $off5, 6 = ext4 with 4 KiB blocks at byte offset $off6. Each logical partition is preceded by its EBR. TSK outputs use -o <offset/512>. 'partitions' lists the table as sfdisk reports it." \
        "$W/$n.extra.json" "$W/$n.p5.fs.json" "$W/$n.p6.fs.json"
    fx_gzip "$disk" "$n"
}

# ===========================================================================
for fx in "${SEL[@]}"; do
    case " ${ALL[*]} " in *" $fx "*) ;; *) fx_die "unknown fixture: $fx" ;; esac
    fx_log "=== $fx"
    "make_$fx"
    rm -f "$W/$fx.img" "$W/$fx".p*.img
done
fx_summary "${SEL[@]}"
