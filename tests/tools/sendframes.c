// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test tool: send COUNT raw Ethernet frames out of IFACE through AF_PACKET,
 * so they pass the device's egress path (qdiscs and clsact) like any frame.
 *
 *   ifm-sendframes IFACE COUNT [--size BYTES] [--type ETHERTYPE] [--dst MAC]
 *                  [--hex PAYLOAD]
 *
 * --hex gives the bytes after the Ethernet header (an IGMP packet, say);
 * the frame is then that long (at least 60 bytes, zero padded).
 *
 *   ifm-sendframes IFACE ROUNDS --pcap FILE
 *
 * sends every frame of a pcap file as it is, ROUNDS times.
 *
 * Frames carry a local experimental EtherType (0x88b5) by default, so no
 * stack answers them and counters at the far end count exactly these.
 * It paces itself so veth backlogs never drop a frame.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Sends the frames of a classic pcap file (native byte order), as they are. */
static int send_pcap(int fd, struct sockaddr_ll *sll, const char *path, long rounds)
{
	unsigned char buf[65536];
	FILE *f = fopen(path, "rb");
	long sent = 0;

	if (!f) {
		perror(path);
		return 1;
	}
	for (long r = 0; r < rounds; r++) {
		uint32_t rec[4];

		if (fseek(f, 24, SEEK_SET) < 0)
			return 1;
		while (fread(rec, sizeof(rec), 1, f) == 1) {
			if (rec[2] > sizeof(buf) || fread(buf, 1, rec[2], f) != rec[2]) {
				fprintf(stderr, "%s: truncated record\n", path);
				return 1;
			}
			while (sendto(fd, buf, rec[2], 0, (struct sockaddr *)sll, sizeof(*sll)) < 0) {
				if (errno != ENOBUFS) {
					perror("sendto");
					return 1;
				}
				usleep(1000);
			}
			if (++sent % 50 == 0)
				usleep(2000);
		}
	}
	fclose(f);
	return 0;
}

static int parse_mac(const char *s, unsigned char mac[6])
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6 ? 0 : -1;
}

int main(int argc, char *argv[])
{
	unsigned char frame[9000], dst[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	unsigned int type = 0x88b5;
	const char *pcap = NULL;
	size_t size = 100, hexlen = 0;
	unsigned char payload[4096];
	struct sockaddr_ll sll = { 0 };
	struct ifreq ifr = { 0 };
	long count;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: %s IFACE COUNT [--size BYTES] [--type ETHERTYPE] [--dst MAC]\n",
			argv[0]);
		return 2;
	}
	count = strtol(argv[2], NULL, 10);
	for (int i = 3; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--size"))
			size = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--type"))
			type = (unsigned int)strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--dst") && parse_mac(argv[i + 1], dst) == 0)
			;
		else if (!strcmp(argv[i], "--pcap"))
			pcap = argv[i + 1];
		else if (!strcmp(argv[i], "--hex") && strlen(argv[i + 1]) % 2 == 0 &&
			 strlen(argv[i + 1]) / 2 <= sizeof(payload)) {
			for (hexlen = 0; argv[i + 1][2 * hexlen]; hexlen++)
				sscanf(argv[i + 1] + 2 * hexlen, "%2hhx", &payload[hexlen]);
			size = 14 + hexlen < 60 ? 60 : 14 + hexlen;
		}
		else {
			fprintf(stderr, "%s: bad option %s\n", argv[0], argv[i]);
			return 2;
		}
	}
	if (size < 60 || size > sizeof(frame)) {
		fprintf(stderr, "%s: size must be 60..%zu\n", argv[0], sizeof(frame));
		return 2;
	}
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], strerror(errno));
		return 1;
	}
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifr.ifr_ifindex;
	sll.sll_halen = 6;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		perror("SIOCGIFHWADDR");
		return 1;
	}
	if (pcap)
		return send_pcap(fd, &sll, pcap, count);
	memset(frame, 0, sizeof(frame));
	memcpy(frame, dst, 6);
	memcpy(frame + 6, ifr.ifr_hwaddr.sa_data, 6);
	frame[12] = (unsigned char)(type >> 8);
	frame[13] = (unsigned char)type;
	if (hexlen)
		memcpy(frame + 14, payload, hexlen);
	for (long n = 0; n < count; n++) {
		if (!hexlen)
			memcpy(frame + 14, &n, sizeof(n));
		if (sendto(fd, frame, size, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			if (errno == ENOBUFS) {
				n--;
				usleep(1000);
				continue;
			}
			perror("sendto");
			return 1;
		}
		if (n % 50 == 49) /* let the receiving side's backlog drain */
			usleep(2000);
	}
	close(fd);
	return 0;
}
