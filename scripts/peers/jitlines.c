// SPDX-License-Identifier: GPL-2.0-only
/* jitlines - the JIT line table of a loaded BPF program, for mapping perf
 * samples inside its JIT image to source lines (scripts/peers/jitprof).
 *
 *   jitlines PROG_ID > LINES
 *
 * Prints one line per jited line info: the kernel address in hex, a tab,
 * FILE:LINE, a tab, the source text BTF keeps for it.  Built and run by
 * bench-peers when PEERS_PERF is set (scripts/peers/README.md, "Profiling");
 * it needs the program's BTF and CAP_SYS_ADMIN. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

struct lines {
	__u32 n;
	struct bpf_line_info *li;
	__u64 *addr;
	__u32 btf_id;
};

static int lines_get(int fd, struct lines *l)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	if (!info.nr_jited_line_info || info.nr_jited_line_info != info.nr_line_info)
		return -ENODATA;
	l->n = info.nr_line_info;
	l->btf_id = info.btf_id;
	l->li = calloc(l->n, sizeof(*l->li));
	l->addr = calloc(l->n, sizeof(*l->addr));
	if (!l->li || !l->addr)
		return -ENOMEM;
	memset(&info, 0, sizeof(info));
	info.nr_line_info = l->n;
	info.line_info_rec_size = sizeof(*l->li);
	info.line_info = (__u64)(unsigned long)l->li;
	info.nr_jited_line_info = l->n;
	info.jited_line_info_rec_size = sizeof(*l->addr);
	info.jited_line_info = (__u64)(unsigned long)l->addr;
	len = sizeof(info);
	return bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ? -errno : 0;
}

static const char *base_name(const char *path)
{
	const char *b = path ? strrchr(path, '/') : NULL;

	return b ? b + 1 : path ? path : "?";
}

int main(int argc, char **argv)
{
	struct lines l = { 0 };
	struct btf *btf;
	int fd, r;

	if (argc != 2) {
		fprintf(stderr, "usage: jitlines PROG_ID\n");
		return 2;
	}
	fd = bpf_prog_get_fd_by_id((__u32)strtoul(argv[1], NULL, 10));
	r = fd < 0 ? -errno : lines_get(fd, &l);
	if (r < 0) {
		fprintf(stderr, "jitlines: program %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	btf = btf__load_from_kernel_by_id(l.btf_id);
	if (!btf) {
		fprintf(stderr, "jitlines: program %s: no BTF\n", argv[1]);
		return 1;
	}
	for (__u32 i = 0; i < l.n; i++) {
		const char *src = btf__name_by_offset(btf, l.li[i].line_off);

		printf("%llx\t%s:%u\t%s\n", (unsigned long long)l.addr[i],
		       base_name(btf__name_by_offset(btf, l.li[i].file_name_off)),
		       BPF_LINE_INFO_LINE_NUM(l.li[i].line_col), src ? src : "");
	}
	btf__free(btf);
	return 0;
}
