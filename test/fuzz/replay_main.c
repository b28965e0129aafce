/* Replay driver for fuzz targets when libFuzzer is not in use: runs the target on every file of
 * its seed corpus (test/fuzz/corpus/<name>/) and on each file named on the command line, so
 * `make check` exercises every target with a plain compiler. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Largest corpus file replayed; larger files are a mistake in the corpus. */
#define REPLAY_MAX_INPUT (1u << 22)

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		return -1;
	}
	uint8_t *buf = malloc(REPLAY_MAX_INPUT);
	size_t n = buf ? fread(buf, 1, REPLAY_MAX_INPUT, f) : 0;
	fclose(f);
	if (!buf)
		return -1;
	/* Copy into an exact-size allocation so ASan sees reads past the end. */
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return 0;
}

int main(int argc, char **argv)
{
	int count = 0, failed = 0;
	for (int i = 1; i < argc; i++, count++)
		failed |= run_file(argv[i]) != 0;
	if (argc == 1) {
		const char *top = getenv("top_srcdir");
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s/test/fuzz/corpus/%s", top ? top : ".",
			 FUZZ_CORPUS_NAME);
		DIR *d = opendir(dir);
		if (!d) {
			fprintf(stderr, "no corpus directory %s\n", dir);
			return 1;
		}
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			char path[8192];
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			failed |= run_file(path) != 0;
			count++;
		}
		closedir(d);
	}
	/* The empty input always runs too. */
	LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
	printf("%s: replayed %d inputs\n", FUZZ_CORPUS_NAME, count + 1);
	return failed ? 1 : 0;
}
