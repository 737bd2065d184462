// SPDX-License-Identifier: GPL-2.0-or-later
/* NetworkManager's user data (nm/config.c): "key=value" lines, any bytes. */
#include "fuzz.h"
#include "ifmirror-nm.h"

static const char *lookup(const char *key, void *arg)
{
	const char *found = NULL;

	/* the last line with that key wins, like a keyfile's reader */
	for (char *const *kv = arg; *kv; kv++)
		if (!strncmp(*kv, key, strlen(key)) && (*kv)[strlen(key)] == '=')
			found = *kv + strlen(key) + 1;
	return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *lines[65], *save = NULL;
	struct nmm_config c = { 0 };
	int n = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	fuzz_quiet();
	for (char *l = strtok_r(buf, "\n", &save); l && n < 64; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	lines[n] = NULL;
	if (nmm_config_read(&c, lookup, lines, "conn", "eth0") == 0)
		for (int i = 0; i < c.nto; i++)
			if (ifm_ifname_problem(c.to[i]))
				abort();
	nmm_config_free(&c);
	free(buf);
	return 0;
}
