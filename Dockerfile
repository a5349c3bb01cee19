# peak-fix as a container image, for fleet runners that run steps in images (Sourcegraph batch changes).
#   docker build --build-arg PEAK_USER_ID=1001 -t peak-fix:1.0.0 .
#   docker run --rm -v "$PWD:/work" peak-fix:1.0.0 --check
# The runtime stage below was migrated by peak-fix itself (`peak-fix --write Dockerfile`): it runs as
# PEAK_USER_ID, and `peak-fix --check Dockerfile` keeps it that way.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY transforms ./transforms
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ARG PEAK_USER_ID
ENV PEAK_USER_ID=$PEAK_USER_ID
RUN : "${PEAK_USER_ID:?build argument PEAK_USER_ID is required: docker build --build-arg PEAK_USER_ID=<uid>}" \
    && (id peak-user || (groupadd -o -g "$PEAK_USER_ID" peak-user && useradd -l -o -m -d /home/peak-user -u "$PEAK_USER_ID" -g peak-user peak-user)) \
    && chown -R peak-user:peak-user /home/peak-user
COPY --chown=peak-user --from=build /src/package.json /opt/peak-fix/package.json
COPY --chown=peak-user --from=build /src/node_modules /opt/peak-fix/node_modules
COPY --chown=peak-user --from=build /src/dist /opt/peak-fix/dist
COPY --chown=peak-user --from=build /src/bin /opt/peak-fix/bin
COPY --chown=peak-user contrib/sourcegraph/step.sh /usr/local/bin/peak-fix-sourcegraph-step
RUN ln -s /opt/peak-fix/bin/peak-fix.js /usr/local/bin/peak-fix
WORKDIR /work
ENTRYPOINT ["peak-fix"]
RUN find /home/peak-user /work \( ! -user peak-user -o ! -group peak-user \) -exec chown peak-user:peak-user {} +
ENV HOME=/home/peak-user
USER $PEAK_USER_ID
