/* mitgss: the acceptor side of a GSS-API Kerberos context, done by MIT
 * krb5's libgssapi_krb5, driven line by line from stdin so that the Go
 * tests can check their tokens against the reference implementation.
 *
 *   accept HEX      -> "ok" after gss_accept_sec_context on the AP-REQ
 *   verify MSG TOK  -> "ok" or "err MAJOR MINOR" (gss_verify_mic)
 *   mic MSG         -> "ok TOKHEX" (gss_get_mic)
 *   unwrap TOK      -> "ok MSGHEX SEALED" (gss_unwrap)
 *   wrap CONF MSG   -> "ok TOKHEX" (gss_wrap)
 *
 * The keytab comes from KRB5_KTNAME. Build: cc mitgss.c -lgssapi_krb5 */
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *unhex(const char *s, size_t *n) {
	size_t l = strlen(s) / 2;
	unsigned char *b = malloc(l + 1);
	for (size_t i = 0; i < l; i++) sscanf(s + 2 * i, "%2hhx", &b[i]);
	*n = l;
	return b;
}

static void puthex(const void *p, size_t n) {
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
}

int main(void) {
	static char line[1 << 20];
	gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
	OM_uint32 maj, min;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\r\n")] = 0;
		char *cmd = strtok(line, " "), *a = strtok(NULL, " "), *b = strtok(NULL, " ");
		if (!cmd) continue;
		size_t n1 = 0, n2 = 0;
		if (!strcmp(cmd, "accept") && a) {
			gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
			in.value = unhex(a, &n1); in.length = n1;
			maj = gss_accept_sec_context(&min, &ctx, GSS_C_NO_CREDENTIAL, &in, GSS_C_NO_CHANNEL_BINDINGS, NULL, NULL, &out, NULL, NULL, NULL);
			if (maj != GSS_S_COMPLETE) { printf("err %u %u\n", maj, min); continue; }
			printf("ok\n");
		} else if (!strcmp(cmd, "verify") && a && b) {
			gss_buffer_desc msg, tok;
			msg.value = unhex(a, &n1); msg.length = n1;
			tok.value = unhex(b, &n2); tok.length = n2;
			maj = gss_verify_mic(&min, ctx, &msg, &tok, NULL);
			if (GSS_ERROR(maj)) printf("err %u %u\n", maj, min); else printf("ok\n");
		} else if (!strcmp(cmd, "mic") && a) {
			gss_buffer_desc msg, tok;
			msg.value = unhex(a, &n1); msg.length = n1;
			maj = gss_get_mic(&min, ctx, GSS_C_QOP_DEFAULT, &msg, &tok);
			if (GSS_ERROR(maj)) { printf("err %u %u\n", maj, min); continue; }
			printf("ok "); puthex(tok.value, tok.length); printf("\n");
		} else if (!strcmp(cmd, "unwrap") && a) {
			gss_buffer_desc tok, msg;
			int conf = 0;
			tok.value = unhex(a, &n1); tok.length = n1;
			maj = gss_unwrap(&min, ctx, &tok, &msg, &conf, NULL);
			if (GSS_ERROR(maj)) { printf("err %u %u\n", maj, min); continue; }
			printf("ok "); puthex(msg.value, msg.length); printf(" %d\n", conf);
		} else if (!strcmp(cmd, "wrap") && a && b) {
			gss_buffer_desc msg, tok;
			int conf = 0;
			msg.value = unhex(b, &n1); msg.length = n1;
			maj = gss_wrap(&min, ctx, atoi(a), GSS_C_QOP_DEFAULT, &msg, &conf, &tok);
			if (GSS_ERROR(maj)) { printf("err %u %u\n", maj, min); continue; }
			printf("ok "); puthex(tok.value, tok.length); printf("\n");
		} else {
			printf("err usage\n");
		}
	}
	return 0;
}
