/**
 * @file valkeyaddon.h
 * @brief libvalkeyaddon: a Redis-compatible Valkey per app on Kubernetes.
 *
 * The umbrella header: it only includes the module headers.
 */
#ifndef VALKEYADDON_H
#define VALKEYADDON_H

#include "valkeyaddon/common.h"
#include "valkeyaddon/version.h"
#include "valkeyaddon/errors.h"
#include "valkeyaddon/memory.h"
#include "valkeyaddon/buffer.h"
#include "valkeyaddon/context.h"
#include "valkeyaddon/naming.h"
#include "valkeyaddon/objects.h"
#include "valkeyaddon/plans.h"
#include "valkeyaddon/status.h"
#include "valkeyaddon/ensure.h"
#include "valkeyaddon/render.h"
#include "valkeyaddon/rollout.h"
#include "valkeyaddon/transports.h"
#include "valkeyaddon/storages.h"
#include "valkeyaddon/provision.h"

#endif /* VALKEYADDON_H */
