/*
 * mcp.h: `hpcloop mcp`, the registry served as a Model Context Protocol
 * server over standard input and output.
 *
 * One JSON-RPC 2.0 message per line each way (the MCP stdio transport).
 * initialize answers with the tools capability; tools/list gives one
 * tool per primitive, named as the primitive, with its summary as the
 * description and its input schema as inputSchema; tools/call runs the
 * primitive through dispatch_run() with the arguments as its spec, and
 * returns the envelope as the tool's text (and structuredContent), with
 * isError when the envelope says ok: false.  No primitive is written a
 * second time: the MCP server only routes.
 *
 * Without 'allow_mutations' only the primitives marked PRIM_READ_SAFE
 * are listed or callable; a call of another is a JSON-RPC error that
 * says how to allow it.  A line longer than 1 MiB, or one that is not a
 * JSON object, is answered with a JSON-RPC error and skipped.  The
 * server ends at the end of its input.
 */
#ifndef HPCLOOP_MCP_H
#define HPCLOOP_MCP_H

struct dispatch_opts;

/* Serve until standard input ends; returns the process exit status. */
int mcp_main(const struct dispatch_opts *opts, int allow_mutations);

#endif
